"""`kiosk backup` and `kiosk restore`: a consistent copy of a running instance, and a standby
brought up from it.

A backup is one tar file (0600: it holds the instance's keys) with:
- the database as of one moment: SQLite's `VACUUM INTO` (a read transaction, so writers carry
  on; a fresh file, so pages freed by the seal's erasure are not copied), or for PostgreSQL a
  logical dump of every table in one repeatable-read transaction (`tables.jsonl`), which can be
  restored into PostgreSQL or SQLite;
- then the files: hand-in archives (every complete `.age`: a hand-in is committed only after
  its file is renamed into place, so the snapshot never names a missing file), sealed draw
  records, keys and config.toml;
- `manifest.json`: format, time, schema revision, and the SHA-256 of every other member, checked
  before anything is restored.

Automatic backups (`backup_interval_minutes`) run inside `kiosk serve` while a phase is open and
for a while after, to `backup_dir` (a second disk), keeping the newest `backup_keep`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath

from sqlalchemy import DateTime as SQLDateTime
from sqlalchemy import Engine, LargeBinary, Numeric, insert, select, text

# Every table on Base.metadata, so that a dump and a load see them all.
import kiosk.all_models  # noqa: F401
from kiosk import audit, clock, db
from kiosk.collect.models import HandIn
from kiosk.config import Settings
from kiosk.errors import N_, InstanceError, KioskError, NotReady, Problem
from kiosk.instance import open_instance
from kiosk.progress import BYTES, NO_PROGRESS, Progress, Reading
from kiosk.stations import phases
from kiosk.stations.models import PhaseRow
from kiosk.stations.window import phase_windows

FORMAT = "kiosk-backup-v1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/kiosk.sqlite3"
TABLES_MEMBER = "database/tables.jsonl"
FILE_FOLDERS = ("keys", "archives", "sealed", "materials")
log = logging.getLogger(__name__)


def _sha256(path: Path, progress: Progress = NO_PROGRESS) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            progress.advance(len(block))
    return digest.hexdigest()


# ----------------------------------------------------------------------------- the database

def _encode(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decode(column, value: object) -> object:
    if value is None:
        return None
    if isinstance(column.type, SQLDateTime) or (getattr(column.type, "impl", None) is not None \
            and isinstance(column.type.impl, SQLDateTime)):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Numeric) and not isinstance(value, bool):
        return Decimal(value) if column.type.asdecimal else float(value)
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    return value


def dump_tables(engine: Engine, out: Path) -> int:
    """Every row of every table, as of one moment (repeatable read), one JSON line per row."""
    count = 0
    # One snapshot for every table; SQLite's read transaction is one already.
    isolation = "REPEATABLE READ" if engine.dialect.name == "postgresql" else "SERIALIZABLE"
    with engine.connect().execution_options(isolation_level=isolation) as conn, \
            out.open("w", encoding="utf-8") as handle, conn.begin():
        for table in db.Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                handle.write(json.dumps({"t": table.name, "r": {k: _encode(v) for k, v in
                                                               row.items()}},
                                        ensure_ascii=False) + "\n")
                count += 1
    return count


def load_tables(engine: Engine, source: Path) -> int:
    """Into an empty database at the current schema; sequences follow the highest ids."""
    if db.has_tables(engine):
        raise InstanceError(f"the database at {engine.url.render_as_string()} already has "
                            "tables; a restore goes into an empty database")
    db.upgrade(engine)
    tables = {t.name: t for t in db.Base.metadata.sorted_tables}
    count = 0
    with engine.begin() as conn:
        # The audit head row and the implicit session are made by the migrations; the backup
        # brings its own.
        conn.execute(tables["audit_head"].delete())
        conn.execute(tables["exam_session"].delete())
        batch: dict[str, list[dict]] = {}
        with source.open(encoding="utf-8") as handle:
            for line in handle:
                item = json.loads(line)
                table = tables[item["t"]]
                batch.setdefault(table.name, []).append(
                    {k: _decode(table.c[k], v) for k, v in item["r"].items()})
                count += 1
        for table in db.Base.metadata.sorted_tables:  # parents before children
            if batch.get(table.name):
                conn.execute(insert(table), batch[table.name])
        if engine.dialect.name == "postgresql":
            for table in db.Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.autoincrement and \
                        table.c.id.type.python_type is int:
                    # Table names come from the models, never from input.
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                        f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM \"{table.name}\"), 1), "
                        f"(SELECT COUNT(*) > 0 FROM \"{table.name}\"))"))
    return count


# ----------------------------------------------------------------------------- backup

# The stages of a backup and of a restore, as the bar and the page name them.
STAGE_SNAPSHOT = N_("Copying the database")
STAGE_HASHING = N_("Hashing the files")
STAGE_WRITING = N_("Writing the backup")
STAGE_CHECKING = N_("Checking the backup")
STAGE_RESTORING = N_("Restoring the files")
STAGE_LOADING = N_("Loading the database")
STAGE_VERIFYING = N_("Checking the restored archives")


def make_backup(instance, out: Path, *, now: datetime | None = None,
                progress: Progress = NO_PROGRESS) -> dict:
    """Write the backup to `out` (a new file, written aside and renamed into place)."""
    now = now or clock.now()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".kiosk-backup-", dir=out.parent))
    try:
        engine = instance.engine
        database = work / "database"
        database.mkdir()
        progress.stage(STAGE_SNAPSHOT)
        if engine.dialect.name == "sqlite":
            member = SQLITE_MEMBER
            # Its own plain connection: VACUUM cannot run inside the transaction that the
            # engine's connections always open.
            source = sqlite3.connect(engine.url.database, isolation_level=None, timeout=30)
            try:
                source.execute("VACUUM INTO ?", (str(work / member),))
            finally:
                source.close()
            rows = None
        else:
            member = TABLES_MEMBER
            rows = dump_tables(engine, work / member)
        files: list[tuple[str, Path]] = [(member, work / member)]
        config = instance.path / "config.toml"
        files.append(("config.toml", config))
        for folder in FILE_FOLDERS:
            base = instance.path / folder
            if not base.is_dir():
                continue
            for path in sorted(base.rglob("*")):
                if path.is_file() and not path.name.endswith(".partial"):
                    files.append((f"{folder}/{path.relative_to(base).as_posix()}", path))
        sizes = {name: path.stat().st_size for name, path in files}
        progress.stage(STAGE_HASHING, sum(sizes.values()), BYTES)
        manifest = {"format": FORMAT, "created_at": clock.iso(now),
                    "database": engine.dialect.name, "revision": db.current_revision(engine),
                    "event_name": instance.settings.event_name, "rows": rows,
                    "files": {name: {"sha256": _sha256(path, progress), "size": sizes[name]}
                              for name, path in files}}
        partial = work / "backup.tar"
        progress.stage(STAGE_WRITING, sum(sizes.values()), BYTES)
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for name, path in files:
                info = tar.gettarinfo(path, arcname=name)
                with path.open("rb") as handle:
                    tar.addfile(info, Reading(handle, progress))
        os.chmod(partial, 0o600)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        # O_EXCL semantics: never replace an existing backup (two servers, the same minute).
        try:
            os.link(partial, out)
        except FileExistsError as exc:
            raise KioskError(N_("%(path)s already exists; a backup never overwrites one."),
                             path=str(out)) from exc
        except OSError:
            if out.exists():
                raise KioskError(N_("%(path)s already exists; a backup never overwrites one."),
                                 path=str(out)) from None
            os.replace(partial, out)  # a filesystem without hard links (FAT on a USB disk)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    progress.stage(STAGE_CHECKING, out.stat().st_size, BYTES)
    return {"out": str(out), "size": out.stat().st_size, "sha256": _sha256(out, progress),
            "files": len(manifest["files"]), "database": manifest["database"],
            "revision": manifest["revision"], "created_at": manifest["created_at"]}


# ----------------------------------------------------------------------------- restore

def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name not in ("", ".")


def check_backup(backup: Path, progress: Progress = NO_PROGRESS) -> dict:
    """The manifest, after checking every member against it; NotReady lists every problem."""
    problems: list[Problem] = []
    with tarfile.open(backup, "r") as tar:
        try:
            manifest = json.load(tar.extractfile(MANIFEST))
        except (KeyError, json.JSONDecodeError, TypeError) as exc:
            raise KioskError(N_("%(path)s is not a kiosk backup (no manifest)."),
                             path=str(backup)) from exc
        if manifest.get("format") != FORMAT:
            raise KioskError(N_("%(path)s is not a kiosk backup (no manifest)."),
                             path=str(backup))
        seen = set()
        members = tar.getmembers()
        progress.stage(STAGE_CHECKING, sum(m.size for m in members if m.name != MANIFEST),
                       BYTES)
        for member in members:
            if member.name == MANIFEST:
                continue
            seen.add(member.name)
            expected = manifest["files"].get(member.name)
            if not member.isfile() or not _safe_name(member.name) or expected is None:
                problems.append(Problem(None, N_("unexpected member %(name)s"),
                                        {"name": member.name}))
                continue
            digest = hashlib.sha256()
            handle = tar.extractfile(member)
            for block in iter(lambda handle=handle: handle.read(1 << 20), b""):
                digest.update(block)
                progress.advance(len(block))
            if digest.hexdigest() != expected["sha256"]:
                problems.append(Problem(None, N_("%(name)s: its SHA-256 does not match the "
                                                 "manifest"), {"name": member.name}))
        for name in sorted(set(manifest["files"]) - seen):
            problems.append(Problem(None, N_("%(name)s is missing"), {"name": name}))
    if problems:
        raise NotReady(N_("The backup is damaged; nothing was restored:"), problems)
    return manifest


def restore_backup(backup: Path, target: Path, *, database_url: str = "",
                   sqlite: bool = False, progress: Progress = NO_PROGRESS) -> dict:
    """A standby instance in `target` (new or empty) from a backup. `database_url`: restore
    into that (empty) database, e.g. a standby PostgreSQL; `sqlite`: into a SQLite file inside
    the new folder, whatever the backup came from (a laptop standing in for the server)."""
    manifest = check_backup(backup, progress)
    if manifest["revision"] != db.head_revision():
        raise KioskError(N_("The backup's schema is %(theirs)s, this kiosk's is %(ours)s: "
                            "restore with the same kiosk version, then migrate."),
                         theirs=manifest["revision"] or "—", ours=db.head_revision() or "—")
    if target.exists() and any(target.iterdir()):
        raise InstanceError(f"{target} is not empty; a restore goes into a new folder")
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(backup, "r") as tar:
            progress.stage(STAGE_RESTORING, sum(m.size for m in tar.getmembers()
                                                if m.name != MANIFEST), BYTES)
            for member in tar.getmembers():
                if member.name in (MANIFEST, SQLITE_MEMBER, TABLES_MEMBER):
                    continue
                destination = target / member.name
                destination.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(Reading(source, progress), sink)
                if member.name.startswith("keys/"):
                    os.chmod(destination, 0o600)
            for folder in ("archives", "exports", "backups", "sealed"):
                (target / folder).mkdir(exist_ok=True)
            if os.name != "nt":
                os.chmod(target / "keys", 0o700)
            settings = Settings.load(target)
            if database_url or sqlite:
                settings.database_url = "" if sqlite else database_url
                _set_database_url(target / "config.toml", settings.database_url)
            url = settings.database_url_for(target)
            if SQLITE_MEMBER in manifest["files"] and url.startswith("sqlite"):
                destination = Path(db.make_engine(url).url.database)
                with tar.extractfile(SQLITE_MEMBER) as source, destination.open("wb") as sink:
                    shutil.copyfileobj(Reading(source, progress), sink)
                    sink.flush()
                    os.fsync(sink.fileno())
            else:
                dump = target / ".restore-tables.jsonl"
                if SQLITE_MEMBER in manifest["files"]:
                    # A SQLite backup into PostgreSQL: dump the snapshot, then load it.
                    snapshot = target / ".restore.sqlite3"
                    with tar.extractfile(SQLITE_MEMBER) as source, snapshot.open("wb") as sink:
                        shutil.copyfileobj(Reading(source, progress), sink)
                    source_engine = db.make_engine(f"sqlite:///{snapshot}")
                    dump_tables(source_engine, dump)
                    source_engine.dispose()
                    snapshot.unlink()
                else:
                    with tar.extractfile(TABLES_MEMBER) as source, dump.open("wb") as sink:
                        shutil.copyfileobj(Reading(source, progress), sink)
                engine = db.make_engine(url)
                progress.stage(STAGE_LOADING)
                try:
                    load_tables(engine, dump)
                finally:
                    engine.dispose()
                    dump.unlink(missing_ok=True)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return verify_restored(target, manifest, progress)


def _set_database_url(config: Path, url: str) -> None:
    lines = [line for line in config.read_text("utf-8").splitlines()
             if not line.strip().startswith("database_url")]
    if url:
        lines.insert(0, f"database_url = {json.dumps(url)}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify_restored(target: Path, manifest: dict, progress: Progress = NO_PROGRESS) -> dict:
    """Open the restored instance and check it: the database's own integrity check, the audit
    chain end to end, and every hand-in's archive file present with its hash."""
    instance = open_instance(target)
    try:
        problems: list[str] = []
        with instance.session() as session:
            if instance.engine.dialect.name == "sqlite":
                result = session.execute(text("PRAGMA integrity_check")).scalar()
                if result != "ok":
                    problems.append(f"integrity_check: {result}")
            chain = audit.verify_chain(session)
            if not chain.ok:
                problems.append(f"audit chain: event {chain.first_broken}: {chain.reason}")
            hand_ins = list(session.scalars(select(HandIn)))
            progress.stage(STAGE_VERIFYING, len(hand_ins))
            for hand_in in hand_ins:
                path = instance.archives_dir / hand_in.stored_name
                if not path.exists():
                    problems.append(f"archive missing: {hand_in.stored_name}")
                progress.advance()
        return {"instance": str(target), "created_at": manifest["created_at"],
                "database": instance.engine.dialect.name, "hand_ins": len(hand_ins),
                "audit_events": chain.events, "problems": problems}
    finally:
        instance.engine.dispose()


# ----------------------------------------------------------------------------- automatic

def backup_name(now: datetime) -> str:
    return f"kiosk-{now.astimezone().strftime('%Y%m%d-%H%M')}.tar"


def prune(folder: Path, keep: int) -> list[Path]:
    backups = sorted(folder.glob("kiosk-*.tar"))
    removed = backups[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def due(instance, now: datetime, window: timedelta) -> bool:
    """During any part of the day, and for `window` after its end (hand-ins at the desk,
    scoring). A part nobody ended is over at its last station's deadline."""
    with instance.session() as session:
        for row in session.scalars(select(PhaseRow)):
            rule = phases.as_rule(row)
            state = clock.phase_state(rule, now)
            if state == "paused":
                return True
            if state == "running":
                end = phase_windows(session, row).last_deadline(now)
            elif state == "ended":
                end = clock.phase_end(rule, now)
            else:
                continue
            if end is None or now - end <= window:
                return True
    return False


class AutoBackup(threading.Thread):
    """Inside `kiosk serve`: every `interval` while due, a backup to `folder`; failures are
    logged (and retried next time), never fatal to the server."""

    def __init__(self, instance, folder: Path, interval: timedelta, keep: int,
                 window: timedelta = timedelta(hours=2)) -> None:
        super().__init__(name="kiosk-auto-backup", daemon=True)
        self.instance, self.folder, self.interval = instance, folder, interval
        self.keep, self.window = keep, window
        self.stopped = threading.Event()
        self.last: dict | None = None

    def run(self) -> None:
        while not self.stopped.wait(self.interval.total_seconds()):
            self.run_once(clock.now())

    def run_once(self, now: datetime) -> dict | None:
        try:
            if not due(self.instance, now, self.window):
                return None
            self.folder.mkdir(parents=True, exist_ok=True)
            out = self.folder / backup_name(now)
            if out.exists():
                return None  # another server process took this minute's backup
            self.last = make_backup(self.instance, out, now=now)
            prune(self.folder, self.keep)
            log.info("automatic backup %s (%s bytes)", out, self.last["size"])
            return self.last
        except Exception:  # a full second disk must not stop the exam
            log.exception("automatic backup failed; retrying at the next interval")
            return None

    def stop(self) -> None:
        self.stopped.set()
