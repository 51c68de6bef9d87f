"""`kiosk stations …`, `phase`, `extend`, `announce`, `lockdown kit`, `preflight`: the hall,
its clock and readiness."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from kiosk import clock
from kiosk.cli_support import (
    CLI_ACTOR,
    command,
    emit,
    group,
    instance_option,
    instance_session,
    json_option,
    open_current,
)
from kiosk.errors import N_, KioskError
from kiosk.field.announcements import announce
from kiosk.field.control import start_phase
from kiosk.field.kit import write_kit
from kiosk.field.preflight import run as run_preflight
from kiosk.i18n import cli_gettext as _
from kiosk.stations import phases
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


@stations_group.command("release", help=N_(
    "Sign a station out of its browser (after a workstation swap)."))
@instance_option
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
@click.argument("station")
@click.argument("ip", required=False, default="")
@json_option
def stations_bind(station: str, ip: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        bound = rebind(session, station, ip, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"station": bound.code, "workstation_ip": bound.workstation_ip},
         _("%(station)s bound to %(ip)s.", station=bound.code, ip=ip or "*"))


@command("phase", help=N_("Drive the clock of a phase; `cancel` calls off a scheduled start."))
@instance_option
@click.argument("action", type=click.Choice(["start", "pause", "resume", "end", "cancel"]))
@click.argument("name", type=click.Choice(["theory", "practical"]))
@click.option("--minutes", type=float, default=None,
              help=N_("Override the configured length (rehearsals; fractions allowed)."))
@click.option("--at", "at", default=None, metavar="TIME",
              help=N_("Schedule the start, e.g. 2026-11-22T09:00 (the server's local time); "
                      "never in the past. Again on a scheduled phase: changes its start."))
@click.option("--reason", default="", help=N_("Why (for pause)."))
@json_option
def phase_command(action: str, name: str, minutes: float | None, at: str | None,
                  reason: str, as_json: bool) -> None:
    with instance_session() as (instance, session):
        now = clock.now()
        if action == "start":
            settings = instance.settings
            length = minutes if minutes is not None else (
                settings.theory_minutes if name == "theory" else settings.practical_minutes)
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
                 _("%(phase)s: the scheduled start is cancelled.",
                   phase=_(phases.display_name(name))))
            return
        else:
            row = phases.end(session, name, actor=CLI_ACTOR, now=now)
        rule = phases.as_rule(row)
        data = {"phase": name, "state": clock.phase_state(rule, now),
                "starts_at": clock.iso(row.starts_at),
                "ends_at": clock.iso(clock.phase_end(rule, now))}
    emit(as_json, data, _("%(phase)s: %(state)s, ends at %(end)s",
                          phase=_(phases.display_name(name)),
                          state=_(phases.STATE_LABELS[data["state"]]),
                          end=clock.local_display(clock.phase_end(rule, now))))


def _start_time(at: str | None) -> datetime | None:
    """`--at` as typed: ISO 8601, the server's local time unless it names its offset."""
    if not at:
        return None
    try:
        starts = datetime.fromisoformat(at)
    except ValueError as exc:
        raise KioskError(_("Not a time: %(at)s", at=at)) from exc
    return starts if starts.tzinfo else starts.astimezone()


@command("extend", help=N_("Extend one station's deadline in the running phase."))
@instance_option
@click.argument("station")
@click.argument("minutes", type=float)
@click.option("--reason", required=True, help=N_("e.g. 设备故障（非选手原因）"))
@json_option
def extend_command(station: str, minutes: float, reason: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        now = clock.now()
        extension = phases.extend(session, station, minutes, reason, actor=CLI_ACTOR, now=now)
        row = session.get(PhaseRow, extension.phase_id)
        deadline = station_window(session, row.name, extension.station_id).deadline(now)
    emit(as_json, {"station": station.upper(), "minutes": minutes,
                   "station_deadline": clock.iso(deadline)},
         _("%(station)s: %(minutes)s more minutes, deadline %(deadline)s",
           station=station.upper(), minutes=minutes, deadline=clock.local_display(deadline)))


@command("announce", help=N_("Post an announcement to every workstation and the hall clock."))
@instance_option
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
