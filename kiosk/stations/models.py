from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime
from kiosk.scope import PerSession


class Station(PerSession, Base):
    """A workstation seat (赛位/工位), e.g. A01, in one session: a hall's seat is one row per
    session (kiosk.scope), so that everything keyed by the station (papers, answers, hand-ins,
    marks, its badge) is that session's alone. After the draw, contestants are known here only
    by station; which person sits where is sealed."""

    __tablename__ = "station"
    __table_args__ = (UniqueConstraint("code", "exam_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    # Badge secrets, stored only as HMAC-SHA256 under the instance key: the QR text (130 bits)
    # and the short typed fallback code. A reprint replaces both, killing the old badge.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    fallback_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    badge_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    badge_generation: Mapped[int] = mapped_column(default=0)
    workstation_ip: Mapped[str | None] = mapped_column(String(64))
    # A spare seat is kept out of the station draw (a contestant may be moved to it later).
    spare: Mapped[bool] = mapped_column(default=False)
    # Set by the station draw and kept after sealing: the server knows which seats are taken,
    # never by whom.
    occupied: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


PART_KINDS = ("theory", "practical")


class TimetablePart(PerSession, Base):
    """One part (环节) of the day's timetable (赛程), in the order of the day: what it is and how
    long it lasts. Its clock, once started, is its PhaseRow (same key). With no row here the
    day is the default timetable (kiosk.stations.timetable.default_parts)."""

    __tablename__ = "timetable_part"
    __table_args__ = (CheckConstraint(f"kind IN {PART_KINDS!r}", name="kind"),
                      UniqueConstraint("position", "exam_session_id"),
                      UniqueConstraint("key", "exam_session_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[float] = mapped_column(Float)
    warnings: Mapped[list] = mapped_column(JSON)  # minutes before the end, largest first
    hand_in: Mapped[bool]
    # Task books are released this long before the start (赛前10分钟领取赛题); work only
    # from the start.
    reading_minutes: Mapped[float] = mapped_column(Float, default=0)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhaseRow(PerSession, Base):
    """The clock of one part of the day (理论知识考试, 模块A …), by the part's key: its
    deadlines, never a countdown. Created when the part is first started or scheduled. The
    timing rules on it live in kiosk.clock (pure)."""

    __tablename__ = "phase"
    __table_args__ = (UniqueConstraint("name", "exam_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # moved by finished pauses
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an explicit end
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PhasePause(Base):
    __tablename__ = "phase_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")


class Extension(Base):
    """Extra time for one station in one phase (延时), e.g. for equipment failure."""

    __tablename__ = "extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    minutes: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StationSession(Base):
    """The one browser a station is signed in on. A second browser is refused (409) until a
    field judge releases the station."""

    __tablename__ = "station_session"

    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))  # also in that browser's session cookie
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(256), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)  # heartbeat, at most every 20 s


class TelemetryEvent(Base):
    """What the kiosk page noticed: focus lost, full screen left, copy attempts … Shown to field
    judges; never punished automatically."""

    __tablename__ = "telemetry_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # server time of arrival
    detail: Mapped[str] = mapped_column(String(200), default="")


class EarlyFinish(Base):
    """提前结束: a contestant finished early with a judge's approval; the time breaks ties."""

    __tablename__ = "early_finish"
    __table_args__ = (UniqueConstraint("phase_id", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("phase.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
