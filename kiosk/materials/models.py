from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime
from kiosk.scope import PerSession


class Material(PerSession, Base):
    """A file for the stations in one part (任务书, data): served from the part's release
    (its start, or its reading time before it), never before. Stored in the instance's
    materials/ under `stored_name`; its hash is in the audit log from the moment it is added."""

    __tablename__ = "material"
    __table_args__ = (UniqueConstraint("part", "filename", "exam_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    part: Mapped[str] = mapped_column(String(16), index=True)  # the timetable part's key
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MaterialFetch(Base):
    """A station fetched a material: the field judges see who has their task book."""

    __tablename__ = "material_fetch"

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
