"""`kiosk stations …` (phases, extensions and the clock join with issue 5)."""

from __future__ import annotations

import click

from kiosk import clock
from kiosk.errors import N_


def register(main: click.Group) -> None:
    from kiosk.cli import CLI_ACTOR, emit, instance_option, json_option, open_current
    from kiosk.i18n import cli_gettext as _
    from kiosk.stations.models import PhaseRow

    @main.group("stations", help=N_("Workstation seats (赛位)."))
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
        from kiosk.stations.registry import add_stations

        instance = open_current()
        with instance.session() as session:
            stations = add_stations(session, count, prefix=prefix, first_ip=first_ip,
                                    actor=CLI_ACTOR, now=clock.now())
        emit(as_json, {"stations": [{"station": s.code, "workstation_ip": s.workstation_ip}
                                    for s in stations]},
             _("Added stations %(first)s to %(last)s.", first=stations[0].code,
               last=stations[-1].code))


    @main.command("phase",
                  help=N_("Drive the clock of a phase; `cancel` calls off a scheduled start."))
    @instance_option
    @click.argument("action", type=click.Choice(["start", "pause", "resume", "end",
                                                 "cancel"]))
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
        from datetime import datetime

        from kiosk.errors import KioskError
        from kiosk.field.control import start_phase
        from kiosk.stations import phases

        instance = open_current()
        settings = instance.settings
        now = clock.now()
        with instance.session() as session:
            if action == "start":
                length = minutes if minutes is not None else (
                    settings.theory_minutes if name == "theory" else settings.practical_minutes)
                starts = None
                if at:
                    try:
                        starts = datetime.fromisoformat(at)
                    except ValueError as exc:
                        raise KioskError(_("Not a time: %(at)s", at=at)) from exc
                    starts = starts if starts.tzinfo else starts.astimezone()
                row = start_phase(session, name, length, actor=CLI_ACTOR, now=now, at=starts)
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

    @main.command("extend", help=N_("Extend one station's deadline in the running phase."))
    @instance_option
    @click.argument("station")
    @click.argument("minutes", type=float)
    @click.option("--reason", required=True, help=N_("e.g. 设备故障（非选手原因）"))
    @json_option
    def extend_command(station: str, minutes: float, reason: str, as_json: bool) -> None:
        from kiosk.stations import phases

        instance = open_current()
        now = clock.now()
        with instance.session() as session:
            extension = phases.extend(session, station, minutes, reason, actor=CLI_ACTOR,
                                      now=now)
            row = session.get(PhaseRow, extension.phase_id)
            _row, rule, extensions = phases.for_station(session, row.name,
                                                        extension.station_id)
            deadline = clock.station_deadline(rule, extensions, now)
        emit(as_json, {"station": station.upper(), "minutes": minutes,
                       "station_deadline": clock.iso(deadline)},
             _("%(station)s: %(minutes)s more minutes, deadline %(deadline)s",
               station=station.upper(), minutes=minutes,
               deadline=clock.local_display(deadline)))

    @stations_group.command("release", help=N_(
        "Sign a station out of its browser (after a workstation swap)."))
    @instance_option
    @click.argument("station")
    @json_option
    def stations_release(station: str, as_json: bool) -> None:
        from kiosk.stations.binding import release

        instance = open_current()
        with instance.session() as session:
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
        from kiosk.stations.binding import rebind

        instance = open_current()
        with instance.session() as session:
            bound = rebind(session, station, ip, actor=CLI_ACTOR, now=clock.now())
        emit(as_json, {"station": bound.code, "workstation_ip": bound.workstation_ip},
             _("%(station)s bound to %(ip)s.", station=bound.code, ip=ip or "*"))

    @main.command("announce", help=N_(
        "Post an announcement to every workstation and the hall clock."))
    @instance_option
    @click.argument("text")
    @json_option
    def announce_command(text: str, as_json: bool) -> None:
        from kiosk.field.announcements import announce

        instance = open_current()
        with instance.session() as session:
            item = announce(session, text, actor=CLI_ACTOR, now=clock.now())
        emit(as_json, {"id": item.id, "at": clock.iso(item.at), "text": item.text},
             _("Announced."))

    @main.group("lockdown", help=N_("Workstation lockdown."))
    def lockdown_group() -> None:
        pass

    @lockdown_group.command("kit", help=N_(
        "Write browser policies (.reg, .json), launch scripts and instructions."))
    @click.option("--server", required=True, help=N_("e.g. http://192.168.1.10:8080"))
    @click.option("--out", required=True, type=click.Path(file_okay=False))
    def lockdown_kit(server: str, out: str) -> None:
        from pathlib import Path

        from kiosk.field.kit import write_kit

        for path in write_kit(server, Path(out)):
            click.echo(str(path))

    @main.command("preflight", help=N_(
        "Readiness check of this server for exam day; non-zero exit on anything blocking."))
    @instance_option
    @click.option("--expected-upload-mb", type=int, default=None,
                  help=N_("Expected hand-in size per station (default: min(limit, 500))."))
    @json_option
    def preflight_command(expected_upload_mb: int | None, as_json: bool) -> None:
        from kiosk.field.preflight import run

        instance = open_current()
        checks = run(instance, expected_upload_mb=expected_upload_mb)
        marks = {"ok": "✓", "warn": "!", "fail": "✗"}
        emit(as_json, {"ok": all(c.status != "fail" for c in checks),
                       "checks": [{"name": c.name, "status": c.status, "detail": c.detail}
                                  for c in checks]},
             lambda: "\n".join(f"{marks[c.status]} {c.line(_)}" for c in checks))
        if any(c.status == "fail" for c in checks):
            raise SystemExit(1)
