"""The field judges' dashboard (赛场监控): every station's state on one page; one station's log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import clock
from kiosk.collect.hand_ins import hand_in_counts
from kiosk.config import Settings
from kiosk.errors import N_
from kiosk.field import hall_layout
from kiosk.field.models import Incident
from kiosk.stations import timetable
from kiosk.stations.models import (
    EarlyFinish,
    Extension,
    PhaseRow,
    Station,
    StationSession,
    TelemetryEvent,
)
from kiosk.stations.registry import station_by_code
from kiosk.stations.window import as_rule, phase_windows
from kiosk.theory_exam.models import CurrentAnswer, Paper, PaperStation, Sitting

ONLINE_WITHIN = timedelta(seconds=45)


@dataclass
class StationRow:
    code: str
    spare: bool
    occupied: bool
    bound_ip: str | None
    online: bool = False
    address: str | None = None
    last_seen: datetime | None = None
    answered: int = 0
    submitted_at: datetime | None = None
    extra_minutes: float = 0
    deadline: datetime | None = None
    flags: dict[str, int] = field(default_factory=dict)
    last_flag_at: datetime | None = None
    incidents: int = 0
    early_finish: datetime | None = None
    hand_ins: int = 0  # in the part shown
    last_hand_in: datetime | None = None
    no_hand_in: bool = False  # the part shown takes hand-ins and this station has none yet
    alarm: bool = False  # offline when it should be online: see offline_alarm
    on_paper: bool = False  # switched to the paper fallback: answers on its sheet


def offline_alarm(row: StationRow, phase_state: str, now: datetime) -> bool:
    """Is this station's being offline something a field judge must act on now? Only while the
    phase runs (or is paused) and the station's own time is not over, for a station someone
    sits at: drawn, or used today. Before the exam, stations that have not connected yet are
    normal, and after it, gone home is normal. A station switched to paper is expected to be
    gone: the judge has acted already (its network failed)."""
    if row.online or row.on_paper or phase_state not in ("running", "paused"):
        return False
    if row.deadline is not None and now > row.deadline:
        return False
    return row.occupied or row.last_seen is not None


def board_part(session: Session, now: datetime, settings: Settings) \
        -> tuple[PhaseRow | None, timetable.Part | None]:
    """The part the board works on: the running one, else the one that ran last (just
    ended: its hand-ins are still being checked), else the next scheduled."""
    the_day = timetable.day(session, settings, now)
    shown = the_day.last_started() or the_day.current
    if shown is None or shown.starts_at is None:
        return None, None
    return shown.row, shown.part


def dashboard(session: Session, now: datetime, settings: Settings) \
        -> tuple[list[StationRow], object]:
    current, part = board_part(session, now, settings)
    windows = phase_windows(session, current)
    # Columns, not ORM objects: 500 stations and their sessions loaded as objects were a third
    # of the view (bench/pages.py).
    # A station on paper comes with its row (an outer join, not a statement of its own).
    rows = {station_id: StationRow(code, spare, occupied, bound_ip, on_paper=on_paper)
            for station_id, code, spare, occupied, bound_ip, on_paper in session.execute(
                select(Station.id, Station.code, Station.spare, Station.occupied,
                       Station.workstation_ip, PaperStation.station_id.is_not(None))
                .outerjoin(PaperStation, PaperStation.station_id == Station.id)
                .order_by(Station.code))}
    for station_id, address, last_seen in session.execute(
            select(StationSession.station_id, StationSession.address,
                   StationSession.last_seen)):
        row = rows.get(station_id)
        if row:
            row.online = now - last_seen <= ONLINE_WITHIN
            row.address, row.last_seen = address, last_seen
    for station_id, count in session.execute(
            select(CurrentAnswer.station_id, func.count()).where(CurrentAnswer.choice.is_not(None))
            .group_by(CurrentAnswer.station_id)):
        if station_id in rows:
            rows[station_id].answered = count
    for station_id, submitted in session.execute(select(Sitting.station_id,
                                                        Sitting.submitted_at)):
        if station_id in rows:
            rows[station_id].submitted_at = submitted
    if current is not None:
        for station_id, row in rows.items():
            window = windows.of(station_id)
            row.extra_minutes = window.extra_minutes()
            row.deadline = window.deadline(now)
        for station_id, at in session.execute(select(EarlyFinish.station_id, EarlyFinish.at)
                                              .where(EarlyFinish.phase_id == current.id)):
            if station_id in rows:
                rows[station_id].early_finish = at
    for station_id, kind, count, last in session.execute(
            select(TelemetryEvent.station_id, TelemetryEvent.kind, func.count(),
                   func.max(TelemetryEvent.at))
            .group_by(TelemetryEvent.station_id, TelemetryEvent.kind)):
        row = rows.get(station_id)
        if row:
            row.flags[kind] = count
            row.last_flag_at = max(filter(None, [row.last_flag_at, last]))
    for station_id, count in session.execute(select(Incident.station_id, func.count())
                                             .group_by(Incident.station_id)):
        if station_id in rows:
            rows[station_id].incidents = count
    if part is not None:
        counts = hand_in_counts(session, part.key)
        for station_id, row in rows.items():
            row.hand_ins, row.last_hand_in = counts.get(station_id, (0, None))
            row.no_hand_in = part.hand_in and not row.hand_ins and row.occupied
    state = clock.phase_state(windows.phase, now)
    for row in rows.values():
        row.alarm = offline_alarm(row, state, now)
    return list(rows.values()), current


# The map's states of a seat (场地布局图 on the board), each with its words; a seat also shows its
# extension and incidents beside its state. Templates draw each state with its own outline and
# symbol as well as its colour (docs/hall-map.md).
SEAT_STATES = {
    "unused": N_("not in use"),
    "spare": N_("spare"),
    "not_started": N_("not started"),
    "working": N_("working"),
    "answering": N_("answering"),
    "handed_in": N_("handed in"),
    "finished": N_("finished early"),
    "time_over": N_("time over"),
    "on_paper": N_("on paper"),
    "offline": N_("offline"),
}


@dataclass(frozen=True)
class Seat:
    state: str
    row: StationRow
    total: int = 0  # questions on the paper (a theory part)


@dataclass(frozen=True)
class HallMap:
    layout: hall_layout.Layout
    seats: dict[str, Seat]
    kind: str  # the part's kind: "theory", "practical" or "" (no part)


def seat_state(row: StationRow, *, phase_state: str, kind: str, hand_in: bool,
               now: datetime) -> str:
    """What the map says of one station (pure): offline before anything else (a judge must
    go there), then what the contestant has done in the part the board works on. Once the
    part is over for the station, it is over: what was answered and not handed in is
    "time over", not "answering"."""
    if row.alarm:
        return "offline"
    if kind == "theory" and row.on_paper:
        return "on_paper"  # the chief judge switched it: someone answers there on paper
    if not row.occupied and row.last_seen is None:
        return "spare" if row.spare else "unused"
    if (kind == "theory" and row.submitted_at) or (kind != "theory" and hand_in
                                                   and row.hand_ins):
        return "handed_in"
    if row.early_finish:
        return "finished"
    if phase_state in ("not_started", "scheduled") or row.last_seen is None:
        return "not_started"
    if phase_state == "ended" or (row.deadline is not None and now > row.deadline):
        return "time_over"
    if kind == "theory" and row.answered:
        return "answering"
    return "working"


def hall_map(session: Session, rows: list[StationRow], current: PhaseRow | None,
             part: timetable.Part | None, now: datetime) -> HallMap | None:
    """The board's rows on the hall's layout: one statement for the layout, one more for the
    paper's length in a theory part; None without a layout."""
    stored = hall_layout.stored(session)
    if stored is None:
        return None
    kind = part.kind if part is not None else ""
    total = 0
    if kind == "theory":
        total = session.scalar(select(func.json_array_length(Paper.questions))
                               .join(Station, Station.id == Paper.station_id).limit(1)) or 0
    state = clock.phase_state(as_rule(current), now)
    hand_in = bool(part and part.hand_in)
    seats = {row.code: Seat(seat_state(row, phase_state=state, kind=kind, hand_in=hand_in,
                                       now=now), row, total) for row in rows}
    return HallMap(stored.layout, seats, kind)


def station_log(session: Session, code: str) -> tuple[Station, list, list, list]:
    station = station_by_code(session, code)
    telemetry = list(session.scalars(select(TelemetryEvent).where(
        TelemetryEvent.station_id == station.id).order_by(TelemetryEvent.id.desc()).limit(200)))
    incidents = list(session.scalars(select(Incident).where(Incident.station_id == station.id)
                                     .order_by(Incident.id)))
    extensions = list(session.scalars(select(Extension).where(Extension.station_id == station.id)
                                      .order_by(Extension.id)))
    return station, telemetry, incidents, extensions
