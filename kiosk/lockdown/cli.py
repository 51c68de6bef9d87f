"""`kiosk stations …` (phases, extensions and the clock join with issue 5)."""

from __future__ import annotations

import click

from kiosk import clock


def register(main: click.Group) -> None:
    from kiosk.cli import CLI_ACTOR, emit, instance_option, json_option, open_current
    from kiosk.i18n import cli_gettext as _

    @main.group("stations")
    def stations_group() -> None:
        """Workstation seats (赛位)."""

    @stations_group.command("add")
    @instance_option
    @click.option("--count", required=True, type=click.IntRange(1, 2000))
    @click.option("--prefix", default="A", show_default=True)
    @click.option("--first-ip", default=None, help="Bind the first station to this IP, the next "
                  "to the next address, and so on.")
    @json_option
    def stations_add(count: int, prefix: str, first_ip: str | None, as_json: bool) -> None:
        """Create stations A01… (continuing after the highest existing number)."""
        from kiosk.lockdown.service import add_stations

        instance = open_current()
        with instance.session() as session:
            stations = add_stations(session, count, prefix=prefix, first_ip=first_ip,
                                    actor=CLI_ACTOR, now=clock.now())
        emit(as_json, {"stations": [{"station": s.code, "workstation_ip": s.workstation_ip}
                                    for s in stations]},
             _("Added stations %(first)s to %(last)s.", first=stations[0].code,
               last=stations[-1].code))
