from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk.db import Base, UTCDateTime


class Contestant(Base):
    """A person on the roster (检录表). Absent or late people are recorded, never deleted."""

    __tablename__ = "contestant"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)  # 身份证号, upper-case X
    organization: Mapped[str] = mapped_column(String(128), default="")
    group: Mapped[str] = mapped_column(String(32))  # 组别, e.g. 职工组 / 学生组
    roster_line: Mapped[int | None]  # the line of the imported file, for people to find it again
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
