"""Task books and data (任务书, 赛题数据) per part of the day: adding, removing, listing, and
serving them to the stations from the part's release, never before.

A part's files are released at its start less its reading time (`PartNow.release_at`): not
while the part is merely scheduled for later, not one second early. A station keeps them until
its part is over for it (its own deadline, extensions included). Files are stored under the
instance's materials/ folder by a random name, written to a temporary file, fsynced and renamed
before their row and audit event are committed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope
from kiosk.config import Settings
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, Forbidden, KioskError, NotFound
from kiosk.instance import fsync_dir
from kiosk.materials.models import Material, MaterialFetch
from kiosk.read_cache import SharedRead
from kiosk.stations import timetable
from kiosk.stations.models import Station
from kiosk.stations.window import station_window

FOLDER = "materials"
CHUNK = 1024 * 1024
PARTIAL_SUFFIX = ".partial"


class TooLarge(KioskError):
    code = "too_large"
    status = 413


def folder_of(instance_path: Path) -> Path:
    """Where an instance keeps its task books (private, like its archives)."""
    return instance_path / FOLDER


def size_limit(settings: Settings) -> int:
    """A task book may be as large as a hand-in (config.toml's `upload_limit_mb`)."""
    return settings.upload_limit_mb * 2**20


def clean_filename(name: str) -> str:
    """The file's name as the stations will see it, minus anything that could act as a path;
    empty if nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return name[:255]


# ----------------------------------------------------------------------------- the rule

def released(part_now: timetable.PartNow | None, now: datetime) -> bool:
    """Are this part's task books out? From its start less its reading time, never before;
    a part never started or scheduled has none out."""
    if part_now is None or part_now.release_at is None:
        return False
    return now >= part_now.release_at


def open_for_station(session: Session, part_now: timetable.PartNow | None, station_id: int,
                     now: datetime) -> bool:
    """Released, and the part not over for this station (its own deadline, extensions
    included)."""
    if not released(part_now, now):
        return False
    return station_window(session, part_now.key, station_id).state(now) != "ended"


# ----------------------------------------------------------------------------- the chief judge

def add(session: Session, folder: Path, settings: Settings, part_key: str, filename: str,
        source: BinaryIO, *, limit: int, actor: audit.Actor, now: datetime) -> Material:
    """Add `source` as the file `filename` of part `part_key`: hashed while written, fsynced and
    renamed, then its row and the audit event (part, name, size, SHA-256) in one transaction.
    Refused, with nothing kept, for an unknown part, a name the part has already, an empty file
    or one over `limit` bytes."""
    part = timetable.get(session, settings, part_key)
    name = clean_filename(filename)
    if not name:
        raise KioskError(N_("The file needs a name."))
    _no_second(session, part.key, name)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    partial = folder / f"{stored_name}{PARTIAL_SUFFIX}"
    try:
        size, sha256 = _write(source, partial, limit)
        os.replace(partial, folder / stored_name)
        fsync_dir(folder)
    finally:
        partial.unlink(missing_ok=True)
    try:
        with write_transaction(session):
            _no_second(session, part.key, name)
            material = Material(part=part.key, filename=name, size=size, sha256=sha256,
                                stored_name=stored_name, added_by=actor.name, added_at=now)
            session.add(material)
            session.flush()
            audit.record(session, actor, "material.added", at=now, subject=part.key,
                         details={"part": part.key, "filename": name, "size": size,
                                  "sha256": sha256})
    except (KioskError, IntegrityError):
        (folder / stored_name).unlink(missing_ok=True)
        if session.in_transaction():
            session.rollback()
        _no_second(session, part.key, name)
        raise
    return material


def _no_second(session: Session, part: str, name: str) -> None:
    if session.scalar(select(Material.id).where(Material.part == part,
                                                Material.filename == name)) is not None:
        raise Conflict(N_("Part %(part)s has a file %(name)s already; remove it first."),
                       part=part, name=name)


def _write(source: BinaryIO, target: Path, limit: int) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(target, "xb") as out:
        os.chmod(target, 0o600)
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(N_("The file is larger than the limit of %(mb)s MB."),
                               mb=limit // 2**20 or 1)
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size == 0:
        raise KioskError(N_("The file is empty."))
    return size, digest.hexdigest()


def remove(session: Session, folder: Path, settings: Settings, part_key: str, filename: str,
           *, actor: audit.Actor, now: datetime) -> Material:
    """Remove a file before its part is released; after that the stations may have it, and
    what they were given stays on record."""
    with write_transaction(session):
        material = session.scalar(select(Material).where(Material.part == part_key,
                                                         Material.filename == filename))
        if material is None:
            raise NotFound(N_("Part %(part)s has no file %(name)s."), part=part_key,
                           name=filename)
        part_now = timetable.day(session, settings, now).of(part_key)
        if released(part_now, now):
            raise Conflict(N_("The files of part %(part)s were released at %(at)s: they can "
                              "no longer be removed."), part=part_key,
                           at=clock.local_display(part_now.release_at))
        if session.scalar(select(MaterialFetch.id).where(
                MaterialFetch.material_id == material.id).limit(1)) is not None:
            raise Conflict(N_("%(name)s was fetched by a station already: it can no longer "
                              "be removed."), name=filename)
        session.delete(material)
        audit.record(session, actor, "material.removed", at=now, subject=part_key,
                     details={"part": part_key, "filename": material.filename,
                              "size": material.size, "sha256": material.sha256})
    # After the commit: a crash before it keeps the file the row still names.
    (folder / material.stored_name).unlink(missing_ok=True)
    return material


# ----------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class PartFiles:
    """A part of the day with its files, as of one moment."""

    part_now: timetable.PartNow
    files: list[Material]
    released: bool


def listing(session: Session, settings: Settings, now: datetime) -> list[PartFiles]:
    """Every part of the day in order with its files (by name); files of a part no longer in
    the timetable are not listed."""
    by_part: dict[str, list[Material]] = {}
    for material in session.scalars(select(Material).order_by(Material.filename)):
        by_part.setdefault(material.part, []).append(material)
    return [PartFiles(p, by_part.get(p.key, []), released(p, now))  # polled: the day shared
            for p in timetable.day_shared(session, settings, now).parts]


# Each part's files (ids by name), shared by every station's clock answer (read_cache.py): the
# answer carries a tag of the station's list, so a page asks for the list only when it changed.
_files_shared: SharedRead[dict[str, tuple[int, ...]]] = SharedRead({"material"}, seconds=2.0)


def _file_ids_by_part(session: Session) -> dict[str, tuple[int, ...]]:
    by_part: dict[str, list[int]] = {}
    for part, material_id in session.execute(select(Material.part, Material.id)
                                             .order_by(Material.filename, Material.id)):
        by_part.setdefault(part, []).append(material_id)
    return {part: tuple(ids) for part, ids in by_part.items()}


def station_file_ids(session: Session, settings: Settings, station_id: int, now: datetime,
                     day: timetable.Day | None = None) -> list[int]:
    """The ids of what a station may fetch now, in the day's order: the files of the parts
    released and still open for it (`open_for_station`'s rule, from the day's rows). No
    statement while the files and the day are shared (the clock poll asks it)."""
    day = day or timetable.day_shared(session, settings, now)
    about = scope.current(session)
    files = _files_shared.get(session, about.id if about is not None else None,
                              _file_ids_by_part)
    found: list[int] = []
    for part_now in day.parts:
        ids = files.get(part_now.key)
        if ids and released(part_now, now) and timetable.windows_of(
                day.rows, part_now.row, session).of(station_id).state(now) != "ended":
            found.extend(ids)
    return found


def list_tag(file_ids: list[int]) -> str:
    """A station's list in a few characters: the same while the list is the same."""
    return hashlib.sha256(",".join(map(str, file_ids)).encode()).hexdigest()[:12]


def for_station(session: Session, settings: Settings, station_id: int,
                now: datetime) -> list[Material]:
    """What a station may fetch now: the files of the parts released and still open for it,
    in the day's order."""
    ids = station_file_ids(session, settings, station_id, now)
    if not ids:
        return []
    rows = {m.id: m for m in session.scalars(select(Material).where(Material.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


# Ids are 32-bit integers in the database (PostgreSQL refuses a larger one in the query).
MAX_ID = 2**31 - 1


def material_by_id(session: Session, material_id: int) -> Material:
    """The material `material_id`, or a 404 for an id that does not exist (or cannot)."""
    material = session.get(Material, material_id) if 0 < material_id <= MAX_ID else None
    if material is None:
        raise NotFound(N_("No such file."))
    return material


def fetch(session: Session, folder: Path, settings: Settings, material_id: int, *,
          station_id: int, station_code: str, now: datetime) -> tuple[Material, Path]:
    """A station fetches a file: refused (403) before its part's release, not one second
    early, and once the part is over for the station. Every fetch is kept; the audit log
    records the first of each station and file."""
    material = material_by_id(session, material_id)
    part_now = timetable.day(session, settings, now).of(material.part)
    if not released(part_now, now):
        raise Forbidden(N_("This file is not released yet: it is given out at the part's "
                           "start."), **_starts_at(part_now))
    if not open_for_station(session, part_now, station_id, now):
        raise Forbidden(N_("The part is over for this station: its files are closed."))
    path = folder / material.stored_name
    if not path.is_file():
        # Lost from the disk (a restore without materials/): no fetch is recorded.
        raise NotFound(N_("The file %(name)s is missing on the server; tell a judge."),
                       name=material.filename)
    with write_transaction(session):
        first = session.scalar(select(MaterialFetch.id).where(
            MaterialFetch.material_id == material.id,
            MaterialFetch.station_id == station_id).limit(1)) is None
        session.add(MaterialFetch(material_id=material.id, station_id=station_id, at=now))
        if first:
            audit.record(session, audit.Actor.station(station_code), "material.fetched", at=now,
                         subject=material.part,
                         details={"part": material.part, "filename": material.filename,
                                  "sha256": material.sha256})
    return material, path


def _starts_at(part_now: timetable.PartNow | None) -> dict:
    if part_now is None or part_now.release_at is None:
        return {}
    return {"starts_at": clock.iso(part_now.release_at)}


@dataclass(frozen=True)
class FetchCell:
    first_at: datetime
    count: int


def fetch_table(session: Session) -> tuple[list[str], dict[tuple[str, int], FetchCell]]:
    """Who fetched what: every station's code, and (station code, material id) → its first
    fetch and how many; a pair not in it was not fetched yet."""
    codes = list(session.scalars(select(Station.code).order_by(Station.code)))
    rows = session.execute(
        select(Station.code, MaterialFetch.material_id, func.min(MaterialFetch.at),
               func.count(MaterialFetch.id))
        .join(Station, Station.id == MaterialFetch.station_id)
        .group_by(Station.code, MaterialFetch.material_id))
    return codes, {(code, material_id): FetchCell(first, count)
                   for code, material_id, first, count in rows}
