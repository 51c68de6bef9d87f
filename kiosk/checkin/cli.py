"""`kiosk roster …` (check-in and the draws join with issue 3)."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import clock


def register(main: click.Group) -> None:
    from kiosk.cli import CLI_ACTOR, emit, instance_option, json_option, open_current
    from kiosk.i18n import cli_gettext as _

    @main.group("roster")
    def roster_group() -> None:
        """The contestants' roster (检录表)."""

    @roster_group.command("import")
    @instance_option
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @json_option
    def roster_import(file: Path, as_json: bool) -> None:
        """Import .xlsx or .csv (UTF-8, UTF-8 BOM, GB18030/GBK); all rows or none."""
        from kiosk.checkin.service import import_roster

        instance = open_current()
        with instance.session() as session:
            imported = import_roster(session, file.read_bytes(), file.name,
                                     groups=instance.settings.groups, actor=CLI_ACTOR,
                                     now=clock.now())
        emit(as_json, {"imported": len(imported)},
             _("Imported %(n)s contestants.", n=len(imported)))
