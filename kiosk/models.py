"""Models shared by every capability: staff accounts, the audit chain, judges' public keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime

ROLES = ("chief", "checkin", "crypt1", "crypt2", "field", "scorer", "supervisor")
JUDGE_KEY_ROLES = ("crypt1", "crypt2", "archive")


class StaffUser(Base):
    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Flask-Login's protocol, kept here so that the web layer needs no wrapper class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"staff:{self.id}"


class LoginAttempt(Base):
    """Failed staff sign-ins, kept in the database so that throttling holds across restarts and
    servers. An attempt is a row in each of its buckets before its password is checked, and
    the rows go again if it succeeds (kiosk.staff)."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The bucket: "device:<nonce>|<name>", "pair:<name>|<address>", "ip:<address>" or
    # "user:<name>" (kiosk.staff.throttle_buckets). Badge codes are throttled in memory.
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit log.

    `hash` is SHA-256 over the previous event's hash and this event's canonical content, so that
    changing, removing or reordering any event breaks every hash after it.
    """

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)  # username, "station:A01", "cli"
    role: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "staff.login"
    subject: Mapped[str] = mapped_column(String(128), default="")
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row that holds the chain's tip; writers lock it to append in order."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class JudgeKey(Base):
    """A judge's public age recipient. The private identity never reaches this server."""

    __tablename__ = "judge_key"
    __table_args__ = (CheckConstraint(f"role IN {JUDGE_KEY_ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), index=True)
    recipient: Mapped[str] = mapped_column(String(128), unique=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExamSession(Base):
    """A session (场次): one run of the day's timetable, for the contestants the session draw
    put in it, on the hall's stations. An event that defines none runs one implicit session
    (code ""): the row every table of the day's work belongs to (kiosk.scope)."""

    __tablename__ = "exam_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)  # the order of the day
    code: Mapped[str] = mapped_column(String(16), unique=True)  # "" for the implicit session
    name: Mapped[str] = mapped_column(String(64), default="")
    # 组别 this session admits; empty: every group.
    groups: Mapped[list] = mapped_column(JSON, default=list)
    # How many contestants it takes; None: its stations that are not spare.
    capacity: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64), default="")
