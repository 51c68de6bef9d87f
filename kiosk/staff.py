"""Staff accounts and login, with throttling against password guessing."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, func, or_, select, text
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
# Across all clients without a device of their own, one account may fail this many times the
# limit: one address (held to 1x per account) can never fill it alone, and guessing from many
# addresses stays bounded.
UNTRUSTED_USER_FACTOR = 4
# The server's console (the kiosk command) is a device of its own: whoever types there can read
# the instance's keys, so no cookie could prove more, and no hall client can fill its bucket.
CONSOLE_DEVICE = "console"
@cache
def _dummy_hash() -> str:
    """A hash to check against when the user does not exist, so that timing does not tell
    (made at the first sign-in, not at every start of a command: scrypt is slow on purpose)."""
    return generate_password_hash("not a password", method="scrypt")


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
                 device: str | None, now: datetime, limit_per_minute: int,
                 action: str = "staff.login", role: str | None = None) -> StaffUser:
    """The user, or Unauthorized / TooManyAttempts (or Forbidden: not of `role`). Every
    failure is counted and audited; `action` names the event ("staff.cosign" for a
    co-signature, so the log never shows it as a sign-in).

    `device` names a client the attacker cannot be: this browser's device-cookie nonce for
    this user, the signed-in staff account that asks for a co-signature, or CONSOLE_DEVICE.
    None: any other client, limited per (user, address), per address and per user.
    """
    username = username[:64]
    buckets = throttle_buckets(username, address, device, limit_per_minute)
    # A refusal costs one read and writes nothing: a client past its limit is turned away
    # before it takes the write lock.
    _refuse_if_full(session, buckets, now)
    attempt = _count_attempt(session, buckets, now)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    valid = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    failed = refused = False
    with write_transaction(session):
        if user is None or not valid or not user.active:
            audit.record(session, audit.Actor(username or "?"), f"{action}_failed", at=now,
                         details={"address": address, "device": device is not None})
            failed = True
        elif role is not None and user.role != role:
            audit.record(session, audit.Actor(user.username, user.role), f"{action}_refused",
                         at=now, details={"address": address, "role": role})
            refused = True
        else:
            # Not a failure after all; and the bucket that only this client fills (its device,
            # or this user at this address) starts afresh. Others' failures stay counted.
            own_key = buckets[0][0]
            session.execute(delete(LoginAttempt).where(
                or_(LoginAttempt.id.in_(attempt), LoginAttempt.key == own_key)))
            audit.record(session, audit.Actor(user.username, user.role), action, at=now,
                         details={"address": address, "device": device is not None})
    if failed:
        raise Unauthorized(N_("Wrong username or password."))
    if refused:
        raise Forbidden(N_("%(user)s is not a %(role)s account."), user=user.username, role=role)
    return user


def cosign(session: Session, username: str, password: str, *, role: str, address: str,
           device: str | None, now: datetime, limit_per_minute: int) -> StaffUser:
    """A second person present confirms with their own account (the supervisor at the
    unsealing): the same checks and throttle as signing in."""
    return authenticate(session, username.strip(), password, address=address, device=device,
                        now=now, limit_per_minute=limit_per_minute, action="staff.cosign",
                        role=role)


def throttle_buckets(username: str, address: str, device: str | None,
                     limit: int) -> list[tuple[str, int]]:
    """The buckets an attempt is counted in, each with its limit per THROTTLE_WINDOW; the
    first is the one that only this client can fill."""
    if device is not None:
        return [(f"device:{device}|{username}", limit)]
    return [(f"pair:{username}|{address}", limit),
            (f"ip:{address}", limit * ADDRESS_FACTOR),
            (f"user:{username}", limit * UNTRUSTED_USER_FACTOR)]


def _refuse_if_full(session: Session, buckets: list[tuple[str, int]], now: datetime) -> None:
    retry_after = _throttle_wait(session, now, buckets)
    if retry_after:
        raise TooManyAttempts(N_("Too many failed sign-ins; try again in %(retry_after)s seconds."),
                              retry_after=retry_after)


def _count_attempt(session: Session, buckets: list[tuple[str, int]], now: datetime) -> list[int]:
    """Count first, then check: the attempt is a committed failure in every bucket before its
    password is compared, so N parallel guesses get at most `limit` comparisons. The ids of
    its rows, to take back on success."""
    with write_transaction(session):
        if session.get_bind().dialect.name == "postgresql":
            # READ COMMITTED lets two transactions count the same rows and both insert; this
            # lock (held to commit, readers unaffected) makes count-and-insert one step, across
            # server processes too. SQLite's BEGIN IMMEDIATE already does.
            session.execute(text("LOCK TABLE login_attempt IN SHARE ROW EXCLUSIVE MODE"))
        _refuse_if_full(session, buckets, now)
        keys = [key for key, _limit in buckets]
        # Expired rows of these buckets go: the table holds about one window of failures.
        session.execute(delete(LoginAttempt).where(LoginAttempt.key.in_(keys),
                                                   LoginAttempt.at <= now - THROTTLE_WINDOW))
        rows = [LoginAttempt(key=key, at=now) for key in keys]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _throttle_wait(session: Session, now: datetime, buckets: list[tuple[str, int]]) -> int:
    """Seconds to wait, or 0: any bucket with `limit` failures inside the window blocks."""
    limits = dict(buckets)
    counted = session.execute(
        select(LoginAttempt.key, func.count(), func.min(LoginAttempt.at))
        .where(LoginAttempt.key.in_(limits), LoginAttempt.at > now - THROTTLE_WINDOW)
        .group_by(LoginAttempt.key)).all()
    waits = [max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1)
             for key, count, oldest in counted if count >= limits[key]]
    return max(waits, default=0)


def record_logout(session: Session, user: StaffUser, *, now: datetime) -> None:
    with write_transaction(session):
        audit.record(session, audit.Actor(user.username, user.role), "staff.logout", at=now)

