from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime


class HandIn(Base):
    """One hand-in (提交/收件) of a station: every version is kept; the last one before the
    station's deadline is the one judged. The file itself lives encrypted in archives/."""

    __tablename__ = "hand_in"
    __table_args__ = (UniqueConstraint("station_id", "part", "version"),
                      CheckConstraint("via IN ('kiosk', 'desk')", name="via"))

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    # The part of the day's timetable it is handed in for (模块A …): each part has its own
    # versions, and its own deadline decides which one is judged.
    part: Mapped[str] = mapped_column(String(16), default="practical", index=True)
    version: Mapped[int]
    receipt_no: Mapped[str] = mapped_column(String(24), unique=True)
    filename: Mapped[str] = mapped_column(String(255))  # as the contestant named it (Unicode)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext
    cipher_sha256: Mapped[str] = mapped_column(String(64))  # of the stored age file
    stored_name: Mapped[str] = mapped_column(String(64))  # the file in archives/
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(8), default="kiosk")
    collected_by: Mapped[str | None] = mapped_column(String(64))  # the field judge, at the desk
    late: Mapped[bool] = mapped_column(default=False)  # desk collection after the deadline
    # The collection desk's form that sent it (idempotency token): the same form sent twice,
    # a double-click or a resend after a lost answer, is this one hand-in, not a second one.
    form_token: Mapped[str | None] = mapped_column(String(64), unique=True)
