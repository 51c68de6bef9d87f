"""`kiosk materials add|list|remove`: the task books (任务书) and data of each part."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import clock
from kiosk.cli_support import (
    CLI_ACTOR,
    emit,
    group,
    instance_option,
    instance_session,
    json_option,
    session_option,
)
from kiosk.errors import N_, KioskError
from kiosk.i18n import cli_gettext as _
from kiosk.materials import task_books


@group("materials", help=N_("Task books and data (任务书) per part, released at its start."))
def materials_group() -> None:
    pass


def _as_json(material) -> dict:
    return {"part": material.part, "name": material.filename, "size": material.size,
            "sha256": material.sha256, "added_by": material.added_by,
            "added_at": clock.iso(material.added_at)}


@materials_group.command("add", help=N_(
    "Add FILE to part PART: served to the stations from the part's start (or its reading "
    "time), never before."))
@instance_option
@session_option
@click.argument("part")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
def materials_add(part: str, file: Path, as_json: bool) -> None:
    if not file.is_file():
        raise KioskError(_("No file %(file)s.", file=str(file)))
    with instance_session() as (instance, session):
        with file.open("rb") as source:
            material = task_books.add(
                session, task_books.folder_of(instance.path), instance.settings, part,
                file.name, source, limit=task_books.size_limit(instance.settings),
                actor=CLI_ACTOR, now=clock.now())
        data = _as_json(material)
    emit(as_json, data, _("Added %(name)s to part %(part)s: %(size)s bytes, SHA-256 %(sha)s.",
                          name=data["name"], part=data["part"], size=data["size"],
                          sha=data["sha256"]))


@materials_group.command("list", help=N_("Every part's files, with size, SHA-256 and release."))
@instance_option
@session_option
@json_option
def materials_list(as_json: bool) -> None:
    with instance_session() as (instance, session):
        now = clock.now()
        entries = task_books.listing(session, instance.settings, now)
        data = {"materials": [{**_as_json(m), "released": entry.released,
                               "release_at": clock.iso(entry.part_now.release_at)}
                              for entry in entries for m in entry.files]}
        lines = []
        for entry in entries:
            for m in entry.files:
                when = (_("released") if entry.released else
                        clock.local_display(entry.part_now.release_at)
                        if entry.part_now.release_at else _("at its start"))
                lines.append(f"{m.part:<12} {m.filename}  {m.size}  {m.sha256}  {when}")
    emit(as_json, data, lambda: "\n".join(lines) or _("No task books yet."))


@materials_group.command("remove", help=N_(
    "Remove the file FILENAME of part PART; refused once the part's files are released."))
@instance_option
@session_option
@click.argument("part")
@click.argument("filename")
@json_option
def materials_remove(part: str, filename: str, as_json: bool) -> None:
    with instance_session() as (instance, session):
        material = task_books.remove(session, task_books.folder_of(instance.path),
                                     instance.settings, part, filename, actor=CLI_ACTOR,
                                     now=clock.now())
        data = {"removed": _as_json(material)}
    emit(as_json, data, _("Removed %(name)s from part %(part)s.", name=filename, part=part))
