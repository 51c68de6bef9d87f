from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime
from kiosk.scope import PerSession

DRAW_STATUSES = ("committed", "drawn", "prepared", "sealed", "superseded")
DRAW_METHODS = ("computer", "lots")
SESSION_DRAW_STATUSES = ("committed", "drawn", "superseded")


class Contestant(PerSession, Base):
    """A person on the roster (检录表), in the session the session draw gave them (the only one,
    in an event of one session). Absent or late people are recorded, never deleted."""

    __tablename__ = "contestant"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None until the session draw, in an event of several sessions (none has it yet).
    exam_session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_session.id"),
                                                        index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # 身份证号, upper-case X
    organization: Mapped[str] = mapped_column(String(128), default="")
    group: Mapped[str] = mapped_column(String(32))  # 组别, e.g. 职工组 / 学生组
    roster_line: Mapped[int | None]  # the line of the imported file, for people to find it again
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Cannot come (recorded after the session draw was announced): kept, with why and who.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class DrawRound(PerSession, Base):
    """One run of a draw stage (一次抽签 / 二次抽签), from commitment to seal.

    A computer draw commits to a secret seed (its SHA-256 is shown and printed) before the public
    entropy is entered. The seed and the plaintext assignments exist only until the seal; after it
    only the age ciphertext and its SHA-256 remain.
    """

    __tablename__ = "draw_round"
    __table_args__ = (
        CheckConstraint("stage IN (1, 2)", name="stage"),
        CheckConstraint(f"status IN {DRAW_STATUSES!r}", name="status"),
        CheckConstraint(f"method IN {DRAW_METHODS!r}", name="method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, index=True)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    seed: Mapped[bytes | None] = mapped_column(LargeBinary)  # erased at the seal
    commitment: Mapped[str | None] = mapped_column(String(64))  # SHA-256(seed), hex
    entropy: Mapped[str | None] = mapped_column(Text)  # public: dice rolls etc.
    pool_size: Mapped[int] = mapped_column(default=0)
    input_count: Mapped[int] = mapped_column(default=0)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    committed_by: Mapped[str] = mapped_column(String(64))
    entropy_by: Mapped[str | None] = mapped_column(String(64))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drawn_by: Mapped[str | None] = mapped_column(String(64))
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sealed_by: Mapped[str | None] = mapped_column(String(64))
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)  # the sealed record (age)
    ciphertext_sha256: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[str | None] = mapped_column(Text)  # age1… it was sealed to, one a line
    # The first moment anyone was shown the result (the ceremony page, the record sheet, the
    # command's pairs): from then on it is final, and a redraw needs a supervisor's co-signature
    # and a reason, kept here on the round it replaced.
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shown_by: Mapped[str | None] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redraw_reason: Mapped[str | None] = mapped_column(Text)
    redraw_cosigner: Mapped[str | None] = mapped_column(String(64))  # the supervisor
    # Kept at the seal, linking nobody: JSON of who drew (stage 1: contestant ids; stage 2:
    # contestant numbers), sorted. Never the order of the free items: that would tell what a
    # late arrival gets (they draw from a fresh permutation sealed in their supplement).
    drawn_ids: Mapped[str | None] = mapped_column(Text)


class SessionDrawRound(Base):
    """One run of the session draw (场次抽签) at the leaders' meeting, over the whole event.

    Verifiable like the station draws (commit to a secret seed, then public entropy), but
    public: the seed is kept and printed once drawn, so that anyone can recompute the result
    from the roster. The result is set on the contestants when it is first shown (published);
    from then on it is final.
    """

    __tablename__ = "session_draw_round"
    __table_args__ = (CheckConstraint(f"status IN {SESSION_DRAW_STATUSES!r}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    seed: Mapped[bytes | None] = mapped_column(LargeBinary)  # secret until drawn, then public
    commitment: Mapped[str] = mapped_column(String(64))  # SHA-256(seed), hex
    # SHA-256 of what the commitment was made over (the roster's ID numbers and groups, the
    # sessions): the draw is refused if that changed, so nobody can steer it with the seed.
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    entropy: Mapped[str | None] = mapped_column(Text)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    committed_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drawn_by: Mapped[str | None] = mapped_column(String(64))
    # The sessions as drawn, in the day's order: [{"code", "name", "groups", "capacity"}].
    sessions: Mapped[list | None] = mapped_column(JSON)
    # The result: {ID number: session code}; who was withdrawn before the draw is not in it.
    assignments: Mapped[dict | None] = mapped_column(JSON)
    # Published: the first moment anyone was shown the result (page, record sheet, --json).
    shown_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shown_by: Mapped[str | None] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redraw_reason: Mapped[str | None] = mapped_column(Text)  # why it was replaced


class Draw1Assignment(Base):
    """Identity → contestant number, in plaintext only between the draw and the seal."""

    __tablename__ = "draw1_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("draw_round.id"), index=True)
    contestant_id: Mapped[int] = mapped_column(ForeignKey("contestant.id"), unique=True)
    contestant_no: Mapped[str] = mapped_column(String(8), unique=True)
    late: Mapped[bool] = mapped_column(default=False)


class ContestantNumber(PerSession, Base):
    """The contestant numbers in use in a session, with no link to anyone: the input of its
    station draw. Numbers are unique across the event."""

    __tablename__ = "contestant_number"

    no: Mapped[str] = mapped_column(String(8), primary_key=True)


class Draw2Assignment(Base):
    """Contestant number → station, in plaintext only between the draw and the seal."""

    __tablename__ = "draw2_assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("draw_round.id"), index=True)
    contestant_no: Mapped[str] = mapped_column(String(8), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), unique=True)
    late: Mapped[bool] = mapped_column(default=False)


class SealedSupplement(Base):
    """A late arrival's assignment made after its stage was sealed: sealed on its own at once,
    with the secret seed of its own permutation of the free items, so that neither the pair nor
    anything that recomputes it exists in plaintext on the server."""

    __tablename__ = "sealed_supplement"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("draw_round.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext_sha256: Mapped[str] = mapped_column(String(64))


class CheckinUndo(Base):
    """An undone check-in, with its reason: the desk never silently forgets."""

    __tablename__ = "checkin_undo"

    id: Mapped[int] = mapped_column(primary_key=True)
    contestant_id: Mapped[int] = mapped_column(ForeignKey("contestant.id"), index=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
