from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime


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
