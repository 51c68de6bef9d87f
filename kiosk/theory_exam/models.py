from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Numeric, String, Text
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
