"""Creating and opening an instance folder: config, keys, database, archives, exports."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kiosk import crypto, db
from kiosk.config import Settings, new_config_text, new_secret
from kiosk.errors import InstanceError
from kiosk.group_commit import GroupCommit
from kiosk.progress import Jobs

SECRET_KEY_FILE = "flask_secret_key"  # noqa: S105  (a file name, not a secret)


@dataclass
class Instance:
    path: Path
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    @property
    def archives_dir(self) -> Path:
        return self.path / "archives"

    @property
    def sealed_dir(self) -> Path:
        """Sealed draw records as .age files, for the judges to copy (encrypted, safe to keep)."""
        return self.path / "sealed"

    @property
    def exports_dir(self) -> Path:
        return self.path / "exports"

    def secret_key(self) -> str:
        return (self.keys_dir / SECRET_KEY_FILE).read_text(encoding="ascii").strip()

    def badge_key(self) -> bytes:
        """The HMAC key under which badge tokens are stored: a stolen database alone is not
        enough to guess the short typed codes offline."""
        return hashlib.sha256(b"kiosk-badge-token|" + self.secret_key().encode("ascii")).digest()

    def hall_token(self) -> str:
        """The view link of the hall clock: read-only, so a derived secret in the URL will do."""
        digest = hashlib.sha256(b"kiosk-hall-clock|" + self.secret_key().encode("ascii"))
        return digest.hexdigest()[:20]

    def session(self) -> Session:
        return self.sessions()

    @cached_property
    def jobs(self) -> Jobs:
        """Long work started from a page, run beside the requests (kiosk.progress)."""
        return Jobs()

    @cached_property
    def answer_saves(self) -> GroupCommit:
        """The answer saves' group commit: one queue per server process (kiosk.group_commit)."""
        return GroupCommit(self.sessions, name="answer saves")


def init_instance(path: Path, *, event_name: str = "职业技能竞赛",
                  environ: dict[str, str] | None = None) -> Instance:
    """A new, empty instance. Refuses a folder that holds anything, or a database with tables."""
    if path.exists() and any(path.iterdir()):
        raise InstanceError(f"{path} already exists and is not empty; kiosk init never touches an "
                            "existing instance")
    # Check the database before writing a single file, so a refusal leaves nothing behind.
    probe = Settings.load(path, environ)
    url = probe.database_url_for(path)
    if not url.startswith("sqlite"):
        engine = db.make_engine(url)
        try:
            if db.has_tables(engine):
                raise InstanceError(f"the database at {engine.url.render_as_string()} already "
                                    "has tables; kiosk init never touches an existing instance")
        finally:
            engine.dispose()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    (path / "config.toml").write_text(new_config_text(event_name), encoding="utf-8")
    keys = path / "keys"
    keys.mkdir(mode=0o700)
    crypto.write_private_file(keys / SECRET_KEY_FILE, new_secret().encode("ascii"))
    crypto.create_signing_key(keys)
    for folder in ("archives", "exports", "backups"):
        (path / folder).mkdir(mode=0o700)
    instance = open_instance(path, environ=environ, migrate=True)
    return instance


def open_instance(path: Path, *, environ: dict[str, str] | None = None, migrate: bool = False,
                  database_url: str | None = None,
                  pool_size: int = db.DEFAULT_POOL_SIZE) -> Instance:
    """The instance at `path`; its engine keeps `pool_size` connections (a server: one per
    thread that may hold one at once, kiosk.serve.connections_for)."""
    if not (path / "config.toml").exists():
        raise InstanceError(f"{path} is not a kiosk instance (no config.toml); create one with "
                            "`kiosk init` or `kiosk demo`")
    settings = Settings.load(path, environ)
    if database_url:
        settings.database_url = database_url
    url = settings.database_url_for(path)
    keep_private(path, url)
    engine = db.make_engine(url, pool_size=pool_size)
    if migrate:
        db.upgrade(engine)
    else:
        current, head = db.current_revision(engine), db.head_revision()
        if current != head:
            engine.dispose()
            raise InstanceError(f"the database schema is at {current or 'nothing'}, this kiosk "
                                f"needs {head}: run `kiosk migrate` (after `kiosk backup`)")
    return Instance(path=path, settings=settings, engine=engine,
                    sessions=db.make_sessionmaker(engine))


PRIVATE_FOLDERS = ("keys", "archives", "exports", "backups", "sealed", "tls", "materials")
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def keep_private(path: Path, database_url: str) -> None:
    """The instance holds the day (answers, the draw until its seal, staff password hashes,
    keys): readable by the server's user only, whatever the umask or however it was copied.
    SQLite gives its WAL and shared-memory files the database file's permissions, so the
    database is created 0600 before SQLite first opens it."""
    if os.name == "nt":
        return  # NTFS permissions come from the folder's ACL (see deploy/windows)
    path.chmod(0o700)
    for name in PRIVATE_FOLDERS:
        if (path / name).is_dir():
            (path / name).chmod(0o700)
    if (path / "config.toml").exists():
        (path / "config.toml").chmod(0o600)
    if not database_url.startswith("sqlite:///"):
        return
    database = Path(database_url.removeprefix("sqlite:///").split("?")[0])
    if not database.parent.is_dir():
        return
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for item in (database, *(database.with_name(database.name + suffix)
                             for suffix in SQLITE_COMPANIONS)):
        if item.exists():
            item.chmod(0o600)


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (no-op where directories cannot be opened)."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
