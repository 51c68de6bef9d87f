from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime
from kiosk.scope import PerSession


class MarkEntry(Base):
    """One scorekeeper's mark for one station and task. Two independent entries (1 and 2) per
    mark; they are compared, never averaged. `task` is "" for the total practical mark."""

    __tablename__ = "mark_entry"
    __table_args__ = (UniqueConstraint("station_id", "task", "entry"),
                      CheckConstraint("entry IN (1, 2)", name="entry"))

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    task: Mapped[str] = mapped_column(String(64), default="")
    entry: Mapped[int]
    mark: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(128), default="")  # file name or "page"


class ScoreTask(Base):
    """A task of the practical mark with its full marks (模块A 25分 …), in the order the sheets
    show them: a practical part's key, or any other task column's name (模块D, scored
    throughout). None set: the tasks are whatever the marks files give, without limits."""

    __tablename__ = "score_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(unique=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    full_marks: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MarkResolution(Base):
    """The chief judge's decision where the two entries differ, with the reason."""

    __tablename__ = "mark_resolution"
    __table_args__ = (UniqueConstraint("station_id", "task"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    task: Mapped[str] = mapped_column(String(64), default="")
    mark: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    reason: Mapped[str] = mapped_column(Text)
    resolved_by: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Deduction(Base):
    """违规扣分: a share of the total (扣总分 5~10 %) or a number of points, with the reason and
    the person who approved it. Withdrawn deductions are deleted; the audit log keeps both."""

    __tablename__ = "deduction"
    __table_args__ = (CheckConstraint("unit IN ('percent', 'points')", name="unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    unit: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(64))
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewSample(Base):
    """The review (复核) draw: the seed is recorded so anyone can recompute which stations were
    sampled; `full_review` is set when more than 5 % of the sample was wrong."""

    __tablename__ = "review_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[str] = mapped_column(String(64))
    population: Mapped[int]
    top_count: Mapped[int]
    random_count: Mapped[int]
    full_review: Mapped[bool] = mapped_column(default=False)
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReviewItem(Base):
    """One sampled station: pending → confirmed, or → error (the reviewer's finding, with the
    mark it should be) → corrected (the chief judge's correction, signed)."""

    __tablename__ = "review_item"
    __table_args__ = (CheckConstraint(
        "status IN ('pending', 'confirmed', 'error', 'corrected')", name="status"),)

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    why: Mapped[str] = mapped_column(String(8))  # top, random, all
    status: Mapped[str] = mapped_column(String(12), default="pending")
    reviewed_mark: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrected_mark: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    corrected_by: Mapped[str | None] = mapped_column(String(64))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ResultsLock(Base):
    """The station-number results as submitted (赛位号评分结果提交): a frozen copy and its
    SHA-256. Unsealing needs it; the ranking is computed from it, never from live marks."""

    __tablename__ = "results_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot: Mapped[str] = mapped_column(Text)  # canonical JSON of every station's result
    sha256: Mapped[str] = mapped_column(String(64))
    locked_by: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnsealedStage(PerSession, Base):
    """A layer opened at the unsealing ceremony (逐层解密), by whom, under which supervisor, and
    whether recomputing the draw matched the printed commitment. Each session's two layers are
    its own (its draws were)."""

    __tablename__ = "unsealed_stage"
    __table_args__ = (UniqueConstraint("exam_session_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[int]
    round_id: Mapped[int] = mapped_column(ForeignKey("draw_round.id"))
    sealed_sha256: Mapped[str] = mapped_column(String(64))
    verified: Mapped[bool]
    problems: Mapped[str] = mapped_column(Text, default="")
    opened_by: Mapped[str] = mapped_column(String(64))
    supervisor: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StationLink(Base):
    """What the unsealing revealed: station → contestant number (stage 2), then → the person
    (stage 1). Nothing here exists before the ceremony."""

    __tablename__ = "station_link"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    # Contestant numbers are unique across the event (each session draws from its own range);
    # the unsealing links each session's numbers to its own stations and people only.
    contestant_no: Mapped[str] = mapped_column(String(32), unique=True)
    contestant_id: Mapped[int | None] = mapped_column(ForeignKey("contestant.id"))
