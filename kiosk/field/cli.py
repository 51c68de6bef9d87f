"""`kiosk stations …`, `phase`, `timetable`, `extend`, `announce`, `lockdown kit`,
`preflight`: the hall, its clock and readiness."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from kiosk import clock
from kiosk.checkin import session_draw
from kiosk.checkin.roster import counts_by_session
from kiosk.cli_support import (
    CLI_ACTOR,
    command,
    emit,
    group,
    instance_option,
    instance_session,
    json_option,
    open_current,
    session_option,
    write_output,
)
from kiosk.errors import N_, KioskError
from kiosk.field import hall_layout, hall_map_print
from kiosk.field.announcements import announce
from kiosk.field.control import start_phase
from kiosk.field.kit import write_kit
from kiosk.field.preflight import run as run_preflight
from kiosk.i18n import cli_gettext as _
from kiosk.stations import exam_sessions, phases, timetable
from kiosk.stations.binding import rebind, release
from kiosk.stations.models import PhaseRow
from kiosk.stations.registry import add_stations
from kiosk.stations.window import station_window


@group("stations", help=N_("Workstation seats (赛位)."))
def stations_group() -> None:
    pass


@stations_group.command("add", help=N_(
    "Create stations A01… (continuing after the highest existing number)."))
@instance_option
@click.option("--count", required=True, type=click.IntRange(1, 2000))
@click.option("--prefix", default="A", show_default=True)
@click.option("--first-ip", default=None, help=N_("Bind the first station to this IP, the next "
              "to the next address, and so on."))
@json_option
def stations_add(count: int, prefix: str, first_ip: str | None, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        stations = add_stations(session, count, prefix=prefix, first_ip=first_ip,
                                actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"stations": [{"station": s.code, "workstation_ip": s.workstation_ip}
                                for s in stations]},
         _("Added stations %(first)s to %(last)s.", first=stations[0].code,
           last=stations[-1].code))


@group("sessions", help=N_("Sessions (场次) of the event: several runs of the day on the "
                            "hall's stations."))
def sessions_group() -> None:
    pass


@sessions_group.command("add", help=N_(
    "Add a session, last in the day's order (its stations and timetable copied from the "
    "first)."))
@instance_option
@click.argument("code")
@click.option("--name", default="", help=N_("Its name as printed, e.g. 上午场."))
@click.option("--groups", default="", help=N_("The groups (组别) it admits, comma-separated "
              "(default: every group)."))
@click.option("--capacity", type=int, default=None, help=N_(
    "How many contestants it takes (default: its stations not marked spare)."))
@json_option
def sessions_add(code: str, name: str, groups: str, capacity: int | None,
                 as_json: bool) -> None:
    wanted = [g.strip() for g in groups.replace("，", ",").split(",") if g.strip()]
    with instance_session() as (instance, session):
        session_draw.require_open(session)
        added = exam_sessions.add(session, code, name=name.strip(), groups=wanted,
                                  capacity=capacity, settings=instance.settings,
                                  actor=CLI_ACTOR, now=clock.now())
        session_draw.await_the_draw(session)
        listed = _sessions_json(session, instance)
    emit(as_json, listed, _("Added session %(code)s; the event has %(n)s sessions.",
                            code=added.code, n=len(listed["sessions"])))


@sessions_group.command("list", help=N_("The sessions, their groups, capacity and state."))
@instance_option
@json_option
def sessions_list(as_json: bool) -> None:
    with instance_session() as (instance, session):
        listed = _sessions_json(session, instance)

    def text() -> str:
        if not listed["sessions"]:
            return _("No session defined: the event runs as one session.")
        return "\n".join(
            f"{s['code']}\t{s['name']}\t{','.join(s['groups']) or '*'}\t"
            f"{s['contestants']}/{s['capacity']}\t{s['state']}" for s in listed["sessions"])

    emit(as_json, listed, text)


def _sessions_json(session, instance) -> dict:
    counts = counts_by_session(session)
    days = exam_sessions.days(session, instance.settings, clock.now())
    return {"sessions": [exam_sessions.as_json(session, day, counts.get(day.exam_session.id, 0))
                         for day in days if day.exam_session.code]}


@stations_group.command("release", help=N_(
    "Sign a station out of its browser (after a workstation swap)."))
@instance_option
@session_option
@click.argument("station")
@json_option
def stations_release(station: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        release(session, station, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"station": station.upper(), "released": True},
         _("Released %(station)s.", station=station.upper()))


@stations_group.command("bind", help=N_(
    "Bind a station to its workstation's IP (no IP: any workstation)."))
@instance_option
@session_option
@click.argument("station")
@click.argument("ip", required=False, default="")
@json_option
def stations_bind(station: str, ip: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        bound = rebind(session, station, ip, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"station": bound.code, "workstation_ip": bound.workstation_ip},
         _("%(station)s bound to %(ip)s.", station=bound.code, ip=ip or "*"))


@command("phase", help=N_("Drive the clock of a part of the day (its key: theory, practical, "
                          "A …); `cancel` calls off a scheduled start."))
@instance_option
@session_option
@click.argument("action", type=click.Choice(["start", "pause", "resume", "end", "cancel"]))
@click.argument("name", metavar="PART")
@click.option("--minutes", type=float, default=None,
              help=N_("Override the timetable's length (rehearsals; fractions allowed)."))
@click.option("--at", "at", default=None, metavar="TIME",
              help=N_("Schedule the start, e.g. 2026-11-22T09:00 (the server's local time); "
                      "never in the past. Again on a scheduled part: changes its start."))
@click.option("--reason", default="", help=N_("Why (for pause)."))
@json_option
def phase_command(action: str, name: str, minutes: float | None, at: str | None,
                  reason: str, as_json: bool) -> None:
    with instance_session() as (instance, session):
        now = clock.now()
        part = timetable.get(session, instance.settings, name)
        label = _(part.label)
        if action == "start":
            length = minutes if minutes is not None else part.minutes
            row = start_phase(session, name, length, actor=CLI_ACTOR, now=now,
                              at=_start_time(at))
        elif action == "pause":
            row = phases.pause(session, name, reason=reason, actor=CLI_ACTOR, now=now)
        elif action == "resume":
            row = phases.resume(session, name, actor=CLI_ACTOR, now=now)
        elif action == "cancel":
            phases.cancel(session, name, actor=CLI_ACTOR, now=now)
            emit(as_json, {"phase": name, "state": "not_started", "starts_at": None,
                           "ends_at": None},
                 _("%(phase)s: the scheduled start is cancelled.", phase=label))
            return
        else:
            row = phases.end(session, name, actor=CLI_ACTOR, now=now)
        rule = phases.as_rule(row)
        data = {"phase": name, "state": clock.phase_state(rule, now),
                "starts_at": clock.iso(row.starts_at),
                "ends_at": clock.iso(clock.phase_end(rule, now))}
        about = _session_about(session, instance)
    if about is not None:
        data["session"] = about
    said = _("%(phase)s: %(state)s, ends at %(end)s", phase=label,
             state=_(phases.STATE_LABELS[data["state"]]),
             end=clock.local_display(clock.phase_end(rule, now)))
    emit(as_json, data, " · ".join([_session_line(about)] * bool(about) + [said]))


def _session_about(session, instance) -> dict | None:
    """The session (场次) a command of one session's day acted on, `{"code", "name"}`: None in
    an event without sessions (its output is as it always was)."""
    chosen = exam_sessions.chosen(session)
    if exam_sessions.is_implicit(chosen):
        return None
    return {"code": chosen.code, "name": str(exam_sessions.label(chosen, instance.settings))}


def _session_line(about: dict | None) -> str:
    return _("Session: %(name)s", name=about["name"]) if about else ""


@group("timetable", help=N_("The day's timetable (赛程): its parts, in order."))
def timetable_group() -> None:
    pass


@timetable_group.command("set", help=N_(
    "Replace the timetable with FILE (timetable.toml, or .json of the same shape); refused "
    "once a part has started."))
@instance_option
@session_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def timetable_set(file: Path, as_json: bool) -> None:
    with instance_session() as (instance, session):
        new_parts = timetable.read(file, instance.settings)
        timetable.replace(session, new_parts, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"parts": [p.as_json() for p in new_parts]},
         _("The timetable has %(count)s parts: %(keys)s.", count=len(new_parts),
           keys=", ".join(p.key for p in new_parts)))


@timetable_group.command("show", help=N_("The day's parts and the state of each."))
@instance_option
@session_option
@json_option
def timetable_show(as_json: bool) -> None:
    with instance_session() as (instance, session):
        now = clock.now()
        the_day = timetable.day(session, instance.settings, now)
        about = _session_about(session, instance)
    data = {"parts": [p.as_json() for p in the_day.parts]}
    if about is not None:
        data["session"] = about

    def lines() -> str:
        shown = []
        for p in the_day.parts:
            when = ""
            if p.starts_at is not None:
                when = "  " + clock.local_display(p.starts_at, "%H:%M") + "–" + \
                    clock.local_display(p.ends_at, "%H:%M")
            kind = _(timetable.KIND_LABELS[p.part.kind])
            shown.append(f"{p.key:<12} {_(p.part.label)}  ({kind}, {p.part.minutes:g} min)  "
                         f"{_(phases.STATE_LABELS[p.state])}{when}")
        return "\n".join([_session_line(about)] * bool(about) + shown)

    emit(as_json, data, lines)


def _start_time(at: str | None) -> datetime | None:
    """`--at` as typed: ISO 8601, the server's local time unless it names its offset."""
    if not at:
        return None
    try:
        starts = datetime.fromisoformat(at)
    except ValueError as exc:
        raise KioskError(_("Not a time: %(at)s", at=at)) from exc
    return starts if starts.tzinfo else starts.astimezone()


@command("extend", help=N_("Extend one station's deadline in the running part (or --part)."))
@instance_option
@session_option
@click.argument("station")
@click.argument("minutes", type=float)
@click.option("--reason", required=True, help=N_("e.g. 设备故障（非选手原因）"))
@click.option("--part", "part", default=None, metavar="KEY",
              help=N_("The part (default: the running one)."))
@json_option
def extend_command(station: str, minutes: float, reason: str, part: str | None,
                   as_json: bool) -> None:
    with instance_session() as (_instance, session):
        now = clock.now()
        extension = phases.extend(session, station, minutes, reason, phase_name=part,
                                  actor=CLI_ACTOR, now=now)
        row = session.get(PhaseRow, extension.phase_id)
        deadline = station_window(session, row.name, extension.station_id).deadline(now)
    emit(as_json, {"station": station.upper(), "minutes": minutes, "part": row.name,
                   "station_deadline": clock.iso(deadline)},
         _("%(station)s: %(minutes)s more minutes, deadline %(deadline)s",
           station=station.upper(), minutes=minutes, deadline=clock.local_display(deadline)))


@command("announce", help=N_("Post an announcement to every workstation and the hall clock."))
@instance_option
@session_option
@click.argument("text")
@json_option
def announce_command(text: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        item = announce(session, text, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"id": item.id, "at": clock.iso(item.at), "text": item.text}, _("Announced."))


@group("lockdown", help=N_("Workstation lockdown."))
def lockdown_group() -> None:
    pass


@lockdown_group.command("kit", help=N_(
    "Write browser policies (.reg, .json), launch scripts and instructions."))
@click.option("--server", required=True, help=N_("e.g. http://192.168.1.10:8080"))
@click.option("--out", required=True, type=click.Path(file_okay=False))
def lockdown_kit(server: str, out: str) -> None:
    for path in write_kit(server, Path(out)):
        click.echo(str(path))


@command("preflight", help=N_(
    "Readiness check of this server for exam day; non-zero exit on anything blocking."))
@instance_option
@click.option("--expected-upload-mb", type=int, default=None,
              help=N_("Expected hand-in size per station (default: min(limit, 500))."))
@json_option
def preflight_command(expected_upload_mb: int | None, as_json: bool) -> None:
    checks = run_preflight(open_current(), expected_upload_mb=expected_upload_mb)
    marks = {"ok": "✓", "warn": "!", "fail": "✗"}
    ok = all(c.status != "fail" for c in checks)
    emit(as_json, {"ok": ok, "checks": [{"name": c.name, "status": c.status, "detail": c.detail}
                                        for c in checks]},
         lambda: "\n".join(f"{marks[c.status]} {c.line(_)}" for c in checks), ok=ok)


@group("hall", help=N_("The hall map (场地布局图): where each station stands."))
def hall_group() -> None:
    pass


@hall_group.group("layout", help=N_("The hall's layout file."))
def hall_layout_group() -> None:
    pass


@hall_layout_group.command("import", help=N_(
    "Replace the hall layout with FILE (.txt or .csv, one line per row of the hall; "
    "docs/hall-map.md); all or nothing, every problem listed."))
@instance_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def hall_layout_import(file: Path, as_json: bool) -> None:
    if file.stat().st_size > hall_layout.MAX_BYTES:
        hall_layout.parse(b" " * (hall_layout.MAX_BYTES + 1))  # refused, with the reason
    with instance_session() as (_instance, session):
        checked = hall_layout.import_layout(session, file.read_bytes(), file.name,
                                            actor=CLI_ACTOR, now=clock.now())
    layout = checked.layout
    warnings = [w.render(_) for w in checked.warnings]
    emit(as_json, {"stations": len(layout.stations), "spare_seats": len(layout.spare_seats),
                   "rows": layout.rows, "columns": layout.columns,
                   "not_on_map": checked.missing, "warnings": warnings},
         lambda: "\n".join([_("The hall layout is saved: %(n)s stations and %(s)s spare seats "
                              "on the map.", n=len(layout.stations),
                              s=len(layout.spare_seats))] + [f"! {w}" for w in warnings]))


@hall_layout_group.command("show", help=N_("Print the hall layout in force, as imported."))
@instance_option
def hall_layout_show() -> None:
    with instance_session() as (_instance, session):
        stored = hall_layout.stored(session)
    if stored is None:
        raise KioskError(_("No hall layout has been imported yet: kiosk hall layout import "
                           "FILE, or the Hall layout page."))
    click.echo(stored.row.source.rstrip("\n"))


@hall_group.command("map", help=N_(
    "Print the hall map for the field judges: one landscape A3 page, station codes large."))
@instance_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
def hall_map_command(out: Path, as_json: bool) -> None:
    with instance_session() as (instance, session):
        data = hall_map_print.render(session, event_name=instance.settings.event_name,
                                     font_config=instance.settings.pdf_font, now=clock.now())
    write_output(out, data)
    emit(as_json, {"out": str(out), "bytes": len(data)}, _("Written to %(out)s", out=str(out)))
