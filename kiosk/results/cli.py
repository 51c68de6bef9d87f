"""`kiosk scores …`: practical marks, entered twice and compared."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click

from kiosk import clock


def register(main: click.Group) -> None:
    from kiosk.cli import CLI_ACTOR, emit, instance_option, json_option, open_current
    from kiosk.errors import KioskError
    from kiosk.i18n import cli_gettext as _

    @main.group("scores")
    def scores_group() -> None:
        """Practical marks by station (two independent entries)."""

    def _differences(session) -> list[dict]:
        from kiosk.results.service import differences

        return [{"station": d.station, "task": d.task,
                 "entry_1": str(d.first) if d.first is not None else None,
                 "entry_2": str(d.second) if d.second is not None else None}
                for d in differences(session)]

    def _lines(items: list[dict]) -> str:
        return "\n".join(f"{d['station']:<6} {d['task'] or _('total'):<12} "
                         f"{d['entry_1'] or '—':>8} {d['entry_2'] or '—':>8}" for d in items)

    @scores_group.command("import")
    @instance_option
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--entry", required=True, type=click.IntRange(1, 2),
                  help="1 for the first scorekeeper, 2 for the second.")
    @json_option
    def scores_import(file: Path, entry: int, as_json: bool) -> None:
        """Import marks (赛位号, 分数, optional task columns); all rows or none."""
        from kiosk.results.service import import_marks

        instance = open_current()
        with instance.session() as session:
            count = import_marks(session, file.read_bytes(), file.name, entry=entry,
                                 full_marks=Decimal(instance.settings.practical_full_marks),
                                 actor=CLI_ACTOR, now=clock.now())
            found = _differences(session)
        emit(as_json, {"entry": entry, "stations": count, "differences": found},
             lambda: "\n".join([_("Entry %(entry)s: %(n)s stations.", entry=entry, n=count),
                                _("Differences to resolve: %(n)s", n=len(found)),
                                _lines(found)]).rstrip())

    @scores_group.command("diff")
    @instance_option
    @json_option
    def scores_diff(as_json: bool) -> None:
        """Every station and task where the two entries differ or one is missing."""
        instance = open_current()
        with instance.session() as session:
            found = _differences(session)
        emit(as_json, {"differences": found},
             lambda: _lines(found) or _("The two entries agree everywhere."))

    @scores_group.command("resolve")
    @instance_option
    @click.argument("station")
    @click.argument("mark")
    @click.option("--reason", required=True)
    @click.option("--task", default="", help="A task column; empty: the total.")
    @json_option
    def scores_resolve(station: str, mark: str, reason: str, task: str, as_json: bool) -> None:
        """The chief judge's decision on a difference, with the reason."""
        from kiosk.results.service import parse_mark, resolve

        value = parse_mark(mark)
        if value is None:
            raise KioskError(_("%(value)s is not a mark (two decimals at most)", value=mark))
        instance = open_current()
        with instance.session() as session:
            resolve(session, station, value, reason, task=task, actor=CLI_ACTOR,
                    now=clock.now())
        emit(as_json, {"station": station.upper(), "task": task, "mark": str(value)},
             _("Resolved."))
