"""An instance for each test, on SQLite and on PostgreSQL, and the app and client on it.

Every test that uses an instance runs on both databases. PostgreSQL comes from a throwaway
cluster that this suite starts itself (tests/pg.py), so the one test command of the README
covers both. Where no PostgreSQL server binaries exist those runs are skipped with a reason —
except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kiosk import clock, create_app
from kiosk.audit import Actor
from kiosk.instance import Instance, init_instance, open_instance
from tests.actors import CHIEF
from tests.factories import make_user
from tests.pg import ThrowawayCluster, find_pg_bin

DATABASES = ["sqlite", "postgresql"]
_counter = itertools.count()


def pytest_report_header(config) -> str:
    return f"kiosk databases: {', '.join(DATABASES)} (PostgreSQL from {find_pg_bin()})"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[ThrowawayCluster | None]:
    if find_pg_bin() is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must test PostgreSQL, but no server binaries were found")
        yield None
        return
    cluster = ThrowawayCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def template_instance(tmp_path_factory, pg_cluster) -> dict[str, Path | str]:
    """One migrated instance per backend, copied for each test (migrating is the slow part)."""
    templates: dict[str, Path | str] = {}
    sqlite_dir = tmp_path_factory.mktemp("template") / "sqlite"
    init_instance(sqlite_dir, event_name="测试赛事").engine.dispose()
    templates["sqlite"] = sqlite_dir
    if pg_cluster is not None:
        admin = create_engine(pg_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE kiosk_template"))
        admin.dispose()
        pg_dir = tmp_path_factory.mktemp("template") / "pg"
        url = pg_cluster.url("kiosk_template")
        init_instance(pg_dir, event_name="测试赛事",
                      environ={"KIOSK_DATABASE_URL": url}).engine.dispose()
        templates["postgresql"] = pg_dir
    return templates


@dataclass
class TestInstance:
    path: Path
    database: str
    database_url: str | None  # None: the SQLite file inside the instance

    def open(self) -> Instance:
        return open_instance(self.path)

    def app(self):
        return create_app(self.path, testing=True)


@pytest.fixture(params=DATABASES)
def database(request) -> str:
    return request.param


@pytest.fixture
def kiosk_instance(database, template_instance, tmp_path, pg_cluster) -> Iterator[TestInstance]:
    """A fresh, migrated, empty instance on the test's database."""
    if database not in template_instance:
        pytest.skip("PostgreSQL server binaries not installed (apt install postgresql)")
    path = tmp_path / "instance"
    shutil.copytree(template_instance[database], path)
    url = None
    if database == "postgresql":
        name = f"kiosk_t{os.getpid()}_{next(_counter)}"
        admin = create_engine(pg_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE kiosk_template"))
        admin.dispose()
        url = pg_cluster.url(name)
        config = path / "config.toml"
        config.write_text(config.read_text("utf-8") + f'database_url = "{url}"\n', "utf-8")
    yield TestInstance(path, database, url)
    if url:
        admin = create_engine(pg_cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {url.split('/')[-1].split('?')[0]} "
                              "WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def instance(kiosk_instance) -> Iterator[Instance]:
    opened = kiosk_instance.open()
    yield opened
    opened.engine.dispose()


@pytest.fixture
def session(instance):
    with instance.session() as s:
        yield s


@pytest.fixture
def app(kiosk_instance):
    application = kiosk_instance.app()
    yield application
    application.extensions["kiosk"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def chief(app):
    """The chief judge's staff account on the app's instance (signs in as "chief")."""
    with app.extensions["kiosk"].session() as session:
        return make_user(session, "chief", username="chief")


@pytest.fixture
def actor() -> Actor:
    return CHIEF


@pytest.fixture
def now():
    return clock.now()
