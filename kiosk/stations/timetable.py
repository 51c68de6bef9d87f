"""The day's timetable (赛程): its parts (环节) in order, each with its key, name, kind, length,
warnings, whether it has its own hand-in, and an optional reading time before its start.

The timetable is data: `kiosk timetable set FILE` or the chief judge's page replace it, until
a part has started. An instance that never set one runs the default day, theory then practical,
with the lengths of config.toml (`theory_minutes`, `practical_minutes`), as every instance did
before timetables existed. Each part's clock is its PhaseRow (kiosk.stations.phases); what the
day looks like at a moment (which part runs, which comes next) is `day`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.config import Settings
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, NotFound, Problem, Term
from kiosk.read_cache import SharedRead
from kiosk.stations.models import PART_KINDS, Extension, PhaseRow, TimetablePart
from kiosk.stations.window import KEY_PATTERN, PhaseWindows, as_rule, phase_windows

MAX_PARTS = 20
MAX_BYTES = 2**20  # a timetable file: a few hundred bytes a part
MAX_MINUTES = 24 * 60
MAX_READING_MINUTES = 120
MAX_NAME = 200
# The theory exam has one paper and one set of answers; its part is known by this key to the
# exam, its scores and the commands (`kiosk phase start theory`).
THEORY_KEY = "theory"
# The default day's parts, named as the competition documents name them (translated where shown).
DEFAULT_NAMES = {"theory": N_("Theory exam"), "practical": N_("Practical exam")}
KIND_LABELS = {"theory": N_("theory"), "practical": N_("practical")}
FIELDS = {"key", "name", "kind", "minutes", "warnings", "hand_in", "reading_minutes"}


@dataclass(frozen=True)
class Part:
    """One part of the day as planned. `default` parts carry a catalog name, translated where
    shown; a timetable's own names are shown as written."""

    key: str
    name: str
    kind: str
    minutes: float
    warnings: tuple[float, ...] = ()
    hand_in: bool = False
    reading_minutes: float = 0.0
    default: bool = False

    @property
    def label(self) -> Term:
        """The name people read (a Term: translated with the message that carries it)."""
        return Term(self.name)

    def as_json(self) -> dict:
        return {"key": self.key, "name": self.name, "kind": self.kind,
                "minutes": _number(self.minutes), "warnings": [_number(w) for w in self.warnings],
                "hand_in": self.hand_in, "reading_minutes": _number(self.reading_minutes)}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def default_parts(settings: Settings) -> list[Part]:
    warnings = tuple(sorted(settings.warnings_at_minutes, reverse=True))
    return [Part("theory", DEFAULT_NAMES["theory"], "theory", settings.theory_minutes,
                 warnings, hand_in=False, default=True),
            Part("practical", DEFAULT_NAMES["practical"], "practical",
                 settings.practical_minutes, warnings, hand_in=True, default=True)]


def parts(session: Session, settings: Settings) -> list[Part]:
    """The day's parts in order: the stored timetable, else the default one."""
    rows = session.scalars(select(TimetablePart).order_by(TimetablePart.position)).all()
    if not rows:
        return default_parts(settings)
    return [Part(r.key, r.name, r.kind, r.minutes, tuple(r.warnings), r.hand_in,
                 r.reading_minutes) for r in rows]


def is_default(session: Session) -> bool:
    return session.scalar(select(TimetablePart.id).limit(1)) is None


def find(session: Session, settings: Settings, key: str) -> Part | None:
    return next((p for p in parts(session, settings) if p.key == key), None)


def get(session: Session, settings: Settings, key: str) -> Part:
    """The part `key`, or a NotFound that lists the day's keys."""
    found = find(session, settings, key)
    if found is None:
        raise NotFound(N_("No part %(part)s in the timetable; its parts are %(keys)s."),
                       part=key, keys=", ".join(p.key for p in parts(session, settings)))
    return found


@dataclass(frozen=True)
class Outline:
    """A part without its lengths: what needs no settings (the default day's keys, names and
    kinds are fixed; only its lengths come from config.toml)."""

    key: str
    name: str
    kind: str
    default: bool = False


DEFAULT_OUTLINE = [Outline("theory", DEFAULT_NAMES["theory"], "theory", default=True),
                   Outline("practical", DEFAULT_NAMES["practical"], "practical", default=True)]


def outline(session: Session) -> list[Outline]:
    """The day's parts in order, key, name and kind: the stored timetable, else the default."""
    stored = session.execute(select(TimetablePart.key, TimetablePart.name, TimetablePart.kind)
                             .order_by(TimetablePart.position)).all()
    return [Outline(*row) for row in stored] if stored else list(DEFAULT_OUTLINE)


def keys(session: Session) -> list[str]:
    """The day's part keys in order."""
    return [part.key for part in outline(session)]


def display_name(session: Session, key: str) -> Term:
    """The part's name as people read it (理论知识考试, 模块A：…), for messages and pages."""
    name = session.scalar(select(TimetablePart.name).where(TimetablePart.key == key))
    return Term(name if name is not None else DEFAULT_NAMES.get(key, key))


# ----------------------------------------------------------------------------- reading a file

def read(path: Path, settings: Settings) -> list[Part]:
    """The timetable file at `path` as parts (`parse`), refused unread if it is too large to
    be one."""
    if path.stat().st_size > MAX_BYTES:
        raise ImportErrors([_too_large()])
    return parse(path.read_bytes(), path.name, settings)


def _too_large() -> Problem:
    return Problem(None, N_("A timetable is a small text file (at most 1 MB)."))


def parse(raw: bytes, filename: str, settings: Settings) -> list[Part]:
    """`timetable.toml` (or a `.json` of the same shape) as parts; ImportErrors lists every
    problem (`line N: reason` for the file's syntax, `part KEY: reason` for a part)."""
    if len(raw) > MAX_BYTES:
        raise ImportErrors([_too_large()])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportErrors([Problem(None, N_("The timetable is not UTF-8 text."))]) from None
    if filename.lower().endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportErrors([Problem(exc.lineno, N_("not JSON: %(reason)s"),
                                        {"reason": exc.msg})]) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None) or _toml_line(str(exc))
            raise ImportErrors([Problem(line, N_("not TOML: %(reason)s"),
                                        {"reason": str(exc).split(" (at line")[0]})]) from None
    return check(data, settings)


def _toml_line(message: str) -> int | None:
    found = re.search(r"at line (\d+)", message)
    return int(found.group(1)) if found else None


def check(data: object, settings: Settings) -> list[Part]:
    """The parts of a timetable read from a file, or ImportErrors with every problem."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise ImportErrors([Problem(None, N_("A timetable is a list of [[part]] tables."))])
    listed = data.get("part", data.get("parts"))
    unknown = sorted(set(data) - {"part", "parts"})
    if unknown:
        problems.append(Problem(None, N_("unknown setting %(names)s (a timetable holds only "
                                         "[[part]] tables)"), {"names": ", ".join(unknown)}))
    if not isinstance(listed, list) or not listed:
        problems.append(Problem(None, N_("A timetable needs at least one [[part]].")))
        raise ImportErrors(problems)
    if len(listed) > MAX_PARTS:
        problems.append(Problem(None, N_("A day has at most %(count)s parts."),
                                {"count": MAX_PARTS}))
        raise ImportErrors(problems)
    found: list[Part] = []
    seen: set[str] = set()
    for number, entry in enumerate(listed, start=1):
        part = _check_part(entry, number, settings, problems)
        if part is None:
            continue
        if part.key in seen:
            problems.append(Problem(None, N_("part %(part)s: the key is used twice"),
                                    {"part": part.key}))
        seen.add(part.key)
        found.append(part)
    theory = [p for p in found if p.kind == "theory"]
    if len(theory) > 1:
        problems.append(Problem(None, N_("The day has one theory exam (one paper); %(count)s "
                                         "parts are theory."), {"count": len(theory)}))
    if problems:
        raise ImportErrors(problems)
    return found


def _check_part(entry: object, number: int, settings: Settings,
                problems: list[Problem]) -> Part | None:
    if not isinstance(entry, dict):
        problems.append(Problem(None, N_("part %(part)s: not a table of settings"),
                                {"part": f"#{number}"}))
        return None
    key = entry.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        problems.append(Problem(None, N_("part %(part)s: the key is 1 to 16 letters, digits, - "
                                         "or _ (got %(key)s)"),
                                {"part": f"#{number}", "key": repr(key)}))
        return None
    before = len(problems)

    def problem(message: str, **params: object) -> None:
        problems.append(Problem(None, message, {"part": key, **params}))

    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        problem(N_("part %(part)s: unknown setting %(names)s"), names=", ".join(unknown))
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        problem(N_("part %(part)s: the name is a text of 1 to 200 characters"))
        name = key
    kind = entry.get("kind")
    if kind not in PART_KINDS:
        problem(N_("part %(part)s: the kind is theory or practical"))
        kind = "practical"
    if kind == "theory" and key != THEORY_KEY:
        problem(N_("part %(part)s: the theory exam's key is theory (the exam, its scores and "
                   "`kiosk phase start theory` know it by that name)"))
    minutes = _minutes(entry.get("minutes"), 1 / 60, MAX_MINUTES)
    if minutes is None:
        problem(N_("part %(part)s: minutes is a number of minutes from 1 second to 24 hours"))
        minutes = 1.0
    warnings: tuple[float, ...]
    if "warnings" in entry:
        given = entry["warnings"]
        values = [_minutes(w, 0, MAX_MINUTES) for w in given] if isinstance(given, list) else [None]
        if None in values:
            problem(N_("part %(part)s: warnings is a list of minutes before the end, e.g. "
                       "[15, 5, 1]"))
            values = []
        elif any(w >= minutes for w in values) or len(set(values)) != len(values):
            problem(N_("part %(part)s: each warning comes once, before the part's end and "
                       "after its start"))
        warnings = tuple(sorted({v for v in values if v is not None}, reverse=True))
    else:
        warnings = tuple(sorted({w for w in settings.warnings_at_minutes if w < minutes},
                                reverse=True))
    hand_in = entry.get("hand_in", kind == "practical")
    if not isinstance(hand_in, bool):
        problem(N_("part %(part)s: hand_in is true or false"))
        hand_in = kind == "practical"
    if hand_in and kind == "theory":
        problem(N_("part %(part)s: the theory exam is answered on screen, not handed in"))
    reading = _minutes(entry.get("reading_minutes", 0), 0, MAX_READING_MINUTES)
    if reading is None:
        problem(N_("part %(part)s: reading_minutes is 0 to 120 minutes"))
        reading = 0.0
    if len(problems) > before:
        return None
    return Part(key, name.strip(), kind, minutes, warnings, hand_in, reading)


def _minutes(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return float(value)


def as_toml(parts: Sequence[Part], translate: Callable[[str], str] = lambda text: text) -> str:
    """The timetable as the file the chief judge would write (what `parse` reads back): the
    page's edit box starts from it, so changing one part is changing one line. `translate`
    gives the default parts' names in the page's language."""
    def text(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON's

    blocks = []
    for p in parts:
        lines = ["[[part]]", f"key = {text(p.key)}", f"name = {text(translate(p.label))}",
                 f"kind = {text(p.kind)}", f"minutes = {p.minutes:g}",
                 f"warnings = [{', '.join(f'{w:g}' for w in p.warnings)}]"]
        if p.kind == "practical":
            lines.append(f"hand_in = {'true' if p.hand_in else 'false'}")
        if p.reading_minutes:
            lines.append(f"reading_minutes = {p.reading_minutes:g}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# ----------------------------------------------------------------------------- replacing it

def replace(session: Session, new_parts: Sequence[Part], *, actor: audit.Actor,
            now: datetime) -> list[Part]:
    """The day's timetable becomes `new_parts`, until a part has started (the clocks, the
    hand-ins and the task books of a started day belong to its parts). A part scheduled but
    not started keeps its schedule if it stays, with its new length."""
    if not new_parts:
        raise ImportErrors([Problem(None, N_("A timetable needs at least one [[part]]."))])
    with write_transaction(session):
        rows = session.scalars(select(PhaseRow)).all()
        started = [r.name for r in rows if clock.has_started(as_rule(r), now)]
        if started:
            raise Conflict(N_("The timetable cannot change once a part has started (%(parts)s)."),
                           parts=", ".join(started))
        keys = {p.key for p in new_parts}
        by_key = {p.key: p for p in new_parts}
        for row in rows:
            if row.name not in keys:
                session.delete(row)  # scheduled only: nothing hangs on its clock yet
            elif row.starts_at is not None:
                row.minutes = by_key[row.name].minutes
                row.ends_at = row.starts_at + timedelta(minutes=row.minutes)
                row.updated_at = now
        session.execute(delete(TimetablePart))
        session.flush()
        for position, part in enumerate(new_parts, start=1):
            session.add(TimetablePart(
                position=position, key=part.key, name=part.name, kind=part.kind,
                minutes=part.minutes, warnings=list(part.warnings), hand_in=part.hand_in,
                reading_minutes=part.reading_minutes, updated_by=actor.name, updated_at=now))
        audit.record(session, actor, "timetable.set", at=now, subject="timetable",
                     details={"parts": [p.as_json() for p in new_parts]})
    return list(new_parts)


# ----------------------------------------------------------------------------- the day now

@dataclass(frozen=True)
class PartNow:
    """A part as of one moment: its plan, its clock (None before it was first started or
    scheduled) and its state (`not_started scheduled running paused ended`: a part whose last
    station's deadline has passed is ended, though nobody pressed end)."""

    part: Part
    row: PhaseRow | None
    state: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None  # the part's own end (without extensions)
    last_deadline: datetime | None = None  # the last station's, extensions included

    @property
    def key(self) -> str:
        return self.part.key

    @property
    def release_at(self) -> datetime | None:
        """When its task books reach the stations: its start, less its reading time."""
        if self.starts_at is None:
            return None
        return self.starts_at - timedelta(minutes=self.part.reading_minutes)

    def as_json(self) -> dict:
        return {**self.part.as_json(), "state": self.state,
                "starts_at": clock.iso(self.starts_at), "ends_at": clock.iso(self.ends_at)}


@dataclass(frozen=True)
class Day:
    parts: list[PartNow] = field(default_factory=list)
    rows: DayRows | None = None  # what it was worked out from (`day_at`)

    @property
    def running(self) -> PartNow | None:
        """The part under way (running or paused); one at a time."""
        return next((p for p in self.parts if p.state in ("running", "paused")), None)

    @property
    def upcoming(self) -> PartNow | None:
        """What comes next: the earliest scheduled part, else the first part in the day's
        order that has not started."""
        scheduled = [p for p in self.parts if p.state == "scheduled"]
        if scheduled:
            return min(scheduled, key=lambda p: p.starts_at)
        return next((p for p in self.parts if p.state == "not_started"), None)

    @property
    def current(self) -> PartNow | None:
        """The part a station and the hall clock show: the running one, else the next one,
        else the last that ran."""
        if self.running is not None:
            return self.running
        if self.upcoming is not None and self.upcoming.state == "scheduled":
            return self.upcoming
        ran = [p for p in self.parts if p.starts_at is not None]
        latest = max(ran, key=lambda p: p.starts_at, default=None)
        return latest if latest is not None else self.upcoming

    def of(self, key: str) -> PartNow | None:
        return next((p for p in self.parts if p.key == key), None)

    def last_started(self, where: Callable[[Part], bool] = lambda part: True) \
            -> PartNow | None:
        """Of the parts `where` holds for, the one under way, else the one that began last
        (just ended: its hand-ins and early finishes still come in); None before any began."""
        begun = [p for p in self.parts if where(p.part)
                 and p.state in ("running", "paused", "ended")]
        return max(begun, key=lambda p: p.starts_at, default=None)

    def after(self, shown: PartNow) -> PartNow | None:
        """What comes after `shown`: the next scheduled part, else the next in the day's order
        that has not started (never an earlier one not yet run)."""
        later = [p for p in self.parts if p.key != shown.key and p.state == "scheduled"]
        if later:
            return min(later, key=lambda p: p.starts_at)
        position = self.parts.index(shown)
        return next((p for p in self.parts[position + 1:] if p.state == "not_started"), None)


def day(session: Session, settings: Settings, now: datetime) -> Day:
    """Every part of the day as of `now`, with its clock: a few queries, whatever the number
    of stations."""
    return day_at(day_rows(session, settings), now, session)


# The day as the polls read it (the kiosks' clock every 5 s, their task books every 10 s): its
# rows read once a second per process and session at most, dropped at once by a commit of this
# process that writes them (kiosk.read_cache); a write of another process shows within the
# second. Never for a decision that writes: those read the day under the writer's lock (`day`).
SHARED_SECONDS = 1.0
_shared_rows: SharedRead[DayRows] = SharedRead(("phase", "timetable_part", "extension"),
                                               seconds=SHARED_SECONDS)


def day_shared(session: Session, settings: Settings, now: datetime) -> Day:
    """`day` as of `now`, from rows at most SHARED_SECONDS old (see above): for the polls."""
    about = scope.current(session)
    rows = _shared_rows.get(session, about.id if about is not None else None,
                            lambda database: day_rows(database, settings, apart=True))
    return day_at(rows, now)


@dataclass(frozen=True)
class PhaseClock:
    """A part's clock as read, apart from any database session: what `day_rows(…, apart=True)`
    holds instead of the PhaseRow (a value a process may keep and share between threads)."""

    id: int
    name: str
    minutes: float
    starts_at: datetime | None
    ends_at: datetime | None
    paused_at: datetime | None
    ended_at: datetime | None
    exam_session_id: int | None

    @classmethod
    def of(cls, row: PhaseRow) -> PhaseClock:
        return cls(row.id, row.name, row.minutes, row.starts_at, row.ends_at, row.paused_at,
                   row.ended_at, row.exam_session_id)


@dataclass(frozen=True)
class DayRows:
    """What `day` reads of the database: the parts, their clocks by key and, when read
    `apart`, the extensions of every part that may be under way (phase id → station id →
    extensions; None: `day_at` reads them when it needs them)."""

    parts: tuple[Part, ...]
    phases: dict[str, PhaseRow | PhaseClock]
    extensions: dict[int, dict[int, tuple[clock.Extension, ...]]] | None = None


def day_rows(session: Session, settings: Settings, *, apart: bool = False) -> DayRows:
    """The day's rows: two queries, and with `apart` one more for the extensions of every part
    started or scheduled (a few dozen rows), the clocks as PhaseClock values: rows that
    `day_at` reads at any later moment without a database session (the clock poll keeps them
    for a moment, kiosk.api)."""
    rows = {r.name: r for r in session.scalars(select(PhaseRow))}
    planned = tuple(parts(session, settings))
    if not apart:
        return DayRows(planned, rows)
    clocks = {name: PhaseClock.of(row) for name, row in rows.items()}
    started = [c.id for c in clocks.values() if c.starts_at is not None]
    extensions: dict[int, dict[int, list[clock.Extension]]] = {i: {} for i in started}
    if started:
        for phase_id, station_id, minutes in session.execute(
                select(Extension.phase_id, Extension.station_id, Extension.minutes)
                .where(Extension.phase_id.in_(started)).order_by(Extension.id)):
            extensions[phase_id].setdefault(station_id, []).append(clock.Extension(minutes))
    return DayRows(planned, clocks, {phase_id: {station_id: tuple(found)
                                              for station_id, found in by_station.items()}
                                   for phase_id, by_station in extensions.items()})


def windows_of(rows: DayRows, row: PhaseRow | PhaseClock | None,
               session: Session | None = None) -> PhaseWindows:
    """The windows of every station in the part `row` of the day `rows`: from the extensions
    read with them (`apart`), else read now through `session` (one query)."""
    if row is None or rows.extensions is None or row.id not in rows.extensions:
        return phase_windows(session, row)
    return PhaseWindows(row.id, as_rule(row), rows.extensions[row.id])


def day_at(rows: DayRows, now: datetime, session: Session | None = None) -> Day:
    """The day `rows` as of `now`: pure when the rows were read `apart` (else `session` reads
    the running part's extensions)."""
    found = []
    for part in rows.parts:
        row = rows.phases.get(part.key)
        if row is None or row.starts_at is None:
            found.append(PartNow(part, row, "not_started"))
            continue
        rule = as_rule(row)
        state = clock.phase_state(rule, now)
        windows = windows_of(rows, row, session) if state in ("running", "paused") else None
        last = windows.last_deadline(now) if windows is not None else clock.phase_end(rule, now)
        if state == "running" and windows.over_for_everyone(now):
            state = "ended"
        found.append(PartNow(part, row, state, row.starts_at, clock.phase_end(rule, now), last))
    return Day(found, rows)
