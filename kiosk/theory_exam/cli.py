"""`kiosk questions …` (papers and scores join with issue 4)."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import clock


def register(main: click.Group) -> None:
    from kiosk.cli import CLI_ACTOR, emit, instance_option, json_option, open_current
    from kiosk.i18n import cli_gettext as _

    @main.group("questions")
    def questions_group() -> None:
        """The theory question bank (题库)."""

    @questions_group.command("import")
    @instance_option
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @json_option
    def questions_import(file: Path, as_json: bool) -> None:
        """Import .xlsx, .csv or .json in the bank template; all rows or none."""
        from kiosk.theory_exam.service import import_bank

        instance = open_current()
        with instance.session() as session:
            result = import_bank(session, file.read_bytes(), file.name, actor=CLI_ACTOR,
                                 now=clock.now())
        warnings = [w.render(_) for w in result.warnings]
        emit(as_json, {"imported": len(result.questions), "warnings": warnings},
             lambda: "\n".join([_("Imported %(n)s questions.", n=len(result.questions)),
                                *[_("warning: %(w)s", w=w) for w in warnings]]))
