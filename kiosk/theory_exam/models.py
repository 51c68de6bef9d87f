from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime

QUESTION_TYPES = ("single", "tf")


class Question(Base):
    """One question of the bank. `answer` is an option key (A…H) for single, `T`/`F` for tf."""

    __tablename__ = "question"
    __table_args__ = (
        CheckConstraint(f"type IN {QUESTION_TYPES!r}", name="type"),
        CheckConstraint("points > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(8))
    stem: Mapped[str] = mapped_column(Text)
    # [{"key": "A", "text": "…"}, …] for single; empty for tf (the kiosk shows 对 / 错).
    options: Mapped[list] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(String(1))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))
    category: Mapped[str] = mapped_column(String(64), default="")
    explanation: Mapped[str] = mapped_column(Text, default="")  # 解析: shown to judges only
    enabled: Mapped[bool] = mapped_column(default=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PaperSpec(Base):
    """How every station's paper is made (one row). Papers are built from it ahead of the start."""

    __tablename__ = "paper_spec"

    id: Mapped[int] = mapped_column(primary_key=True)
    single_count: Mapped[int | None]  # None: every enabled single-choice question
    tf_count: Mapped[int | None]
    single_points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # None: the bank's
    tf_points: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    # {"category": {"single": n, "tf": m}}: draw per category instead of from the whole bank.
    per_category: Mapped[dict | None] = mapped_column(JSON)
    same_questions: Mapped[bool] = mapped_column(default=False)  # one draw for every station
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    show_score: Mapped[bool] = mapped_column(default=False)  # after submitting
    master_seed: Mapped[str] = mapped_column(String(64))  # hex; station seeds derive from it
    # The enabled question ids when the papers were built: a paper can be regenerated from its
    # seed for a dispute even after the bank changed.
    bank_ids: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class Paper(Base):
    """One station's paper, built ahead and served as stored. `seed` regenerates it exactly."""

    __tablename__ = "paper"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    seed: Mapped[str] = mapped_column(String(64))
    # [{"qid", "type", "stem", "options": [{"key", "text"}]}]: exactly what the kiosk gets.
    questions: Mapped[list] = mapped_column(JSON)
    # {qid: {"points": "2", "keys": {opaque key: original letter or T/F}}}: never sent out.
    key_map: Mapped[dict] = mapped_column(JSON)
    full_marks: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerEvent(Base):
    """Every answer save, append-only: the record of what each click did and when."""

    __tablename__ = "answer_event"
    __table_args__ = (Index("ix_answer_event_station_question", "station_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    choice: Mapped[str | None] = mapped_column(String(1))  # original letter / T / F; None: cleared
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied: Mapped[bool]  # False when an older seq arrived late and changed nothing


class CurrentAnswer(Base):
    __tablename__ = "current_answer"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), primary_key=True)
    choice: Mapped[str | None] = mapped_column(String(1))
    seq: Mapped[int] = mapped_column(BigInteger)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Sitting(Base):
    """A station's theory exam: when it opened the paper, submitted, and what it scored."""

    __tablename__ = "sitting"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    answered: Mapped[int | None]
    time_used_s: Mapped[float | None] = mapped_column(Float)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# ----------------------------------------------------------------------------- the paper fallback

class PaperStation(Base):
    """A station the chief judge switched to its printed paper (纸质作答) when the network failed:
    from then on it saves nothing online (409 `on_paper`), and it is graded from its answer sheet
    (答题卡) typed in twice. The answers it saved online before are kept, shown to the judges
    beside the sheet, and not graded (docs/exam.md, "The paper fallback")."""

    __tablename__ = "paper_station"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    online_answers: Mapped[int]  # answers saved online at the switch (kept)
    switched_by: Mapped[str] = mapped_column(String(64))
    switched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SheetEntry(Base):
    """One judge's reading of one question on a station's answer sheet, as printed: A–H for a
    single-choice question, T (对 √) or F (错 ×) for true/false, "" left blank. Two entries (1 and
    2) by two judges, compared, never merged."""

    __tablename__ = "sheet_entry"
    __table_args__ = (UniqueConstraint("station_id", "question_id", "entry"),
                      CheckConstraint("entry IN (1, 2)", name="entry"))

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    entry: Mapped[int]
    mark: Mapped[str] = mapped_column(String(1), default="")
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SheetResolution(Base):
    """The chief judge's reading where the two entries of a sheet differ, with the reason."""

    __tablename__ = "sheet_resolution"
    __table_args__ = (UniqueConstraint("station_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    mark: Mapped[str] = mapped_column(String(1), default="")
    reason: Mapped[str] = mapped_column(Text)
    resolved_by: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
