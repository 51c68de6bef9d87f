"""The server's clock: the only time that counts on exam day.

Workstation clocks may be minutes or hours wrong, so nothing on a kiosk computes a deadline;
kiosks receive the server's time and the deadline and count down the difference. Deadlines are
stored, never countdowns. Everything below `now()` is pure: callers pass `now` in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.errors import N_


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


def duration_text(seconds: float, translate: Callable[..., str]) -> str:
    """A time used as people say it, in `translate`'s language: 19 分 10 秒, 45 秒 (19:10
    reads as a time of day). The pages pass gettext, the command line cli_gettext."""
    whole = int(seconds)
    if whole < 60:
        return translate(N_("%(s)s s"), s=whole)
    return translate(N_("%(m)s min %(s)s s"), m=whole // 60, s=f"{whole % 60:02d}")


# ----------------------------------------------------------------------------- the timing rules
# One place for each timing question, asked by every caller: may this station still write
# (`refusal`, `may_write`: the answer save, the submission, the upload), where is its deadline
# and has its part ended (`station_deadline`, `station_state`: the clock API, the exam page,
# the dashboard), has the phase started (`has_started`), is it over for everyone
# (`over_for_everyone`: the results). Pure: no database, no Flask; callers pass `now`. They
# read a station's window through kiosk.stations.window, its one loader.

@dataclass(frozen=True)
class Phase:
    """What the database stores of a phase: deadlines, never countdowns.

    `ends_at` is the planned end, already moved by every finished pause. While paused,
    `paused_at` is set and the end keeps moving with the clock. `ended_at` is an explicit end
    (the chief judge stopping everyone at once).
    """

    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    paused_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Extension:
    minutes: float


def phase_state(phase: Phase | None, now: datetime) -> str:
    if phase is None or phase.starts_at is None:
        return "not_started"
    if phase.ended_at is not None and phase.ended_at <= now:
        return "ended"
    if now < phase.starts_at:
        return "scheduled"
    if phase.paused_at is not None:
        return "paused"
    return "running"


def phase_end(phase: Phase, now: datetime) -> datetime | None:
    """The phase's end as of `now`: a running pause pushes it along."""
    if phase.ends_at is None:
        return None
    end = phase.ends_at
    if phase.paused_at is not None and phase.ended_at is None:
        end += max(now - phase.paused_at, timedelta(0))
    if phase.ended_at is not None:
        end = min(end, phase.ended_at)
    return end


def station_deadline(phase: Phase | None, extensions: Sequence[Extension],
                     now: datetime) -> datetime | None:
    """This station's own deadline: the phase end plus its extensions. An explicit end stops
    everyone at once, extensions included."""
    if phase is None or phase.ends_at is None:
        return None
    natural = phase.ends_at + timedelta(minutes=sum(e.minutes for e in extensions))
    if phase.paused_at is not None and phase.ended_at is None:
        natural += max(now - phase.paused_at, timedelta(0))
    if phase.ended_at is not None:
        return min(natural, phase.ended_at)
    return natural


def has_started(phase: Phase | None, now: datetime) -> bool:
    """The phase has begun (it may since have been paused or ended): not before its scheduled
    start. Papers freeze, early finishes and working time count from here."""
    return phase_state(phase, now) not in ("not_started", "scheduled")


def refusal(phase: Phase | None, extensions: Sequence[Extension], now: datetime,
            grace: timedelta) -> str | None:
    """Why this station may not write now, in the words of its screen (`station_state`'s):
    "not_started", "scheduled", "paused" or "ended"; None while it may. Answers and uploads are
    accepted while the phase runs and until the station's deadline, plus a grace of a few
    seconds for requests already in flight; never while paused."""
    state = phase_state(phase, now)
    if state in ("not_started", "scheduled", "paused"):
        return state
    deadline = station_deadline(phase, extensions, now)
    if deadline is None:
        return "ended"
    if phase.ended_at is not None and now >= phase.ended_at + grace:
        return "ended"
    if now > deadline + grace:
        return "ended"
    return None


def may_write(phase: Phase | None, extensions: Sequence[Extension], now: datetime,
              grace: timedelta) -> bool:
    """`refusal` has nothing against it."""
    return refusal(phase, extensions, now, grace) is None


def station_state(phase: Phase | None, extensions: Sequence[Extension], now: datetime) -> str:
    """What this station's screen shows: the phase's state, except that a running phase has
    ended for a station whose own deadline (extensions included) has passed."""
    state = phase_state(phase, now)
    if state == "running":
        deadline = station_deadline(phase, extensions, now)
        if deadline is not None and now >= deadline:
            return "ended"
    return state


def over_for_everyone(phase: Phase | None, extensions_by_station: Iterable[Sequence[Extension]],
                      now: datetime) -> bool:
    """Over for every station: ended by the chief judge (which stops everyone, extensions
    included), or past the last station's own deadline (`extensions_by_station`: each
    station's extensions; a station without any ends with the phase). Never before the start,
    never while paused: a pause moves every deadline along."""
    if not has_started(phase, now):
        return False
    if phase.ended_at is not None and phase.ended_at <= now:
        return True
    if phase.paused_at is not None:
        return False
    deadlines = [station_deadline(phase, extensions, now)
                 for extensions in ((), *extensions_by_station)]
    return None not in deadlines and now >= max(deadlines)


def seconds_used(phase: Phase, pauses: Sequence[tuple[datetime, datetime | None]],
                 until: datetime) -> float:
    """Working time from the start to `until`, without the pauses (ties break on it)."""
    if phase.starts_at is None:
        return 0.0
    total = (until - phase.starts_at).total_seconds()
    for started, ended in pauses:
        stop = min(ended or until, until)
        if stop > started:
            total -= (stop - started).total_seconds()
    return max(total, 0.0)
