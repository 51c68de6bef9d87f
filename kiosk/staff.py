"""Staff accounts and login, with throttling against password guessing."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk import audit
from kiosk.db import write_transaction
from kiosk.errors import (
    N_,
    Conflict,
    Forbidden,
    ImportErrors,
    Problem,
    TooManyAttempts,
    Unauthorized,
)
from kiosk.models import ROLES, LoginAttempt, StaffUser

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8
THROTTLE_WINDOW = timedelta(minutes=1)
# One address may fail more often than one account: a check-in desk is shared by several staff.
ADDRESS_FACTOR = 4
# A hash to check against when the user does not exist, so that timing does not tell.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def random_password() -> str:
    # Readable aloud and typeable on any keyboard layout: no 0/O, 1/l/I.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def add_user(session: Session, username: str, role: str, password: str, *, actor: audit.Actor,
             now: datetime, display_name: str = "") -> StaffUser:
    problems = []
    if not USERNAME_RE.match(username):
        problems.append(Problem(None, N_("A username is 2 to 64 letters, digits or _ . -")))
    if role not in ROLES:
        problems.append(Problem(None, N_("Unknown role; the roles are %(roles)s"),
                                {"roles": " ".join(ROLES)}))
    if len(password) < MIN_PASSWORD:
        problems.append(Problem(None, N_("A password has at least 8 characters")))
    if problems:
        raise ImportErrors(problems)
    with write_transaction(session):
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise Conflict(N_("The user %(username)s exists already."), username=username)
        user = StaffUser(username=username, role=role, password_hash=hash_password(password),
                         display_name=display_name, created_at=now)
        session.add(user)
        session.flush()
        audit.record(session, actor, "staff.user_added", at=now, subject=username,
                     details={"role": role})
    return user


def authenticate(session: Session, username: str, password: str, *, address: str,
                 now: datetime, limit_per_minute: int) -> StaffUser:
    """The user, or Unauthorized / TooManyAttempts. Every failure is counted and audited."""
    user_key, address_key = f"user:{username[:64]}", f"ip:{address}"
    retry_after = throttle_wait(session, now, [(user_key, limit_per_minute),
                                            (address_key, limit_per_minute * ADDRESS_FACTOR)])
    if retry_after:
        raise TooManyAttempts(N_("Too many failed sign-ins; try again in %(retry_after)s seconds."),
                              retry_after=retry_after)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    with write_transaction(session):
        if user is None or not valid or not user.active:
            session.add_all([LoginAttempt(key=user_key, at=now),
                             LoginAttempt(key=address_key, at=now)])
            audit.record(session, audit.Actor(username[:64] or "?"), "staff.login_failed", at=now,
                         details={"address": address})
            failed = True
        else:
            session.execute(delete(LoginAttempt).where(LoginAttempt.key == user_key))
            audit.record(session, audit.Actor(user.username, user.role), "staff.login", at=now,
                         details={"address": address})
            failed = False
    if failed:
        raise Unauthorized(N_("Wrong username or password."))
    return user


def cosign(session: Session, username: str, password: str, *, role: str, address: str,
           now: datetime, limit_per_minute: int) -> StaffUser:
    """A second person present confirms with their own account (the supervisor at the
    unsealing): the same checks and throttle as signing in."""
    user = authenticate(session, username.strip(), password, address=address, now=now,
                        limit_per_minute=limit_per_minute)
    if user.role != role:
        raise Forbidden(N_("%(user)s is not a %(role)s account."), user=user.username, role=role)
    return user


def throttle_wait(session: Session, now: datetime, limits: list[tuple[str, int]]) -> int:
    """Seconds to wait, or 0: any key with `limit` failures inside the window blocks."""
    since = now - THROTTLE_WINDOW
    for key, limit in limits:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.at))
            .where(LoginAttempt.key == key, LoginAttempt.at > since)
        ).one()
        if count >= limit:
            return max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1)
    return 0


def record_logout(session: Session, user: StaffUser, *, now: datetime) -> None:
    with write_transaction(session):
        audit.record(session, audit.Actor(user.username, user.role), "staff.logout", at=now)

