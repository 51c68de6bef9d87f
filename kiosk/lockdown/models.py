from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime


class Station(Base):
    """A workstation seat (赛位/工位), e.g. A01. Contestants are known here only by station."""

    __tablename__ = "station"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # The secret printed on the badge (QR and typed fallback). Knowing it is logging in as the
    # station, so it is random, long enough against guessing, and never shown on staff lists.
    login_token: Mapped[str] = mapped_column(String(64), unique=True)
    workstation_ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
