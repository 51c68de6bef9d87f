"""What the chief and field judges write during the exam: announcements and incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime
from kiosk.scope import PerSession


class Announcement(PerSession, Base):
    """The chief judge's word to every kiosk and the hall clock (公告)."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    by: Mapped[str] = mapped_column(String(64))
    withdrawn: Mapped[bool] = mapped_column(default=False)


class Incident(PerSession, Base):
    """违规记录: what happened at a station, the rule, and the proposed deduction."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    deduction: Mapped[str] = mapped_column(String(64), default="")  # e.g. "5%", text as decided
    recorded_by: Mapped[str] = mapped_column(String(64))


class HallLayout(Base):
    """场地布局图: the hall's layout as imported (kiosk.field.hall_layout), the last one in force,
    the earlier ones kept. One for the event, not per session: the sessions share the seats."""

    __tablename__ = "hall_layout"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # the file as typed: parsed again when shown
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    seats: Mapped[int]
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
