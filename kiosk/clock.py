"""The server's clock: the only time that counts on exam day.

Workstation clocks may be minutes or hours wrong, so nothing on a kiosk computes a deadline;
kiosks receive the server's time and the deadline and count down the difference. Deadlines are
stored, never countdowns. Everything below `now()` is pure: callers pass `now` in.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with milliseconds and offset, the API's one time format."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def utc_offset_minutes(moment: datetime) -> int:
    """The hall's offset from UTC at `moment` (the server's zone), for kiosks to show wall time."""
    offset = moment.astimezone().utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def local_display(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time shown to people: in the server's local zone, which is the hall's."""
    if moment is None:
        return ""
    return moment.astimezone().strftime(fmt)
