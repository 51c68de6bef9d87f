"""`kiosk preflight`: is this server ready for the day? A checklist; ✗ stops the day, ! warns."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, text

from kiosk import db as database
from kiosk.checkin.models import Contestant
from kiosk.errors import N_
from kiosk.instance import Instance
from kiosk.models import JUDGE_KEY_ROLES, ROLES, JudgeKey, StaffUser
from kiosk.network import lan_addresses
from kiosk.pdf import FontMissing, find_cjk_font
from kiosk.stations.models import Station
from kiosk.theory_exam.models import Paper, Question


@dataclass(frozen=True)
class Check:
    """One line of the checklist. `name` is its stable key (`--json`); `label` and `message` are
    msgids, both filled from `params`, translated when printed."""

    name: str
    status: str  # "ok", "warn", "fail"
    message: str
    params: dict[str, object] = field(default_factory=dict)
    label: str = ""

    @property
    def detail(self) -> str:
        return _fill(self.message, self.params)

    def line(self, translate: Callable[..., str]) -> str:
        return (f"{translate(self.label or self.name, **self.params)}"
                f"{translate(N_(': '))}{translate(self.message, **self.params)}")


def _fill(message: str, params: dict[str, object]) -> str:
    return message % params if params else message


def _default_route_exists() -> bool | None:
    """Whether a default route exists (Linux), read from the kernel: no packet is sent."""
    try:
        with open("/proc/net/route") as routes:
            next(routes)
            return any(line.split()[1] == "00000000" for line in routes if line.strip())
    except (OSError, StopIteration, IndexError):
        return None


def _backup_check(instance: Instance) -> Check:
    """Automatic backups on, into a writable folder on another disk than the instance."""
    settings = instance.settings
    if not settings.backup_interval_minutes:
        return Check("backups", "warn", N_("automatic backups are off "
                                           "(backup_interval_minutes = 0)"), label=N_("backups"))
    folder = settings.backup_folder(instance.path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Check("backups", "fail", "%(folder)s: %(error)s",
                     {"folder": str(folder), "error": exc.strerror}, N_("backups"))
    if not os.access(folder, os.W_OK):
        return Check("backups", "fail", N_("%(folder)s is not writable"), {"folder": str(folder)},
                     N_("backups"))
    same_disk = folder.stat().st_dev == instance.path.stat().st_dev
    params = {"minutes": settings.backup_interval_minutes, "folder": str(folder),
              "free": f"{shutil.disk_usage(folder).free / 2**30:.1f}"}
    if same_disk:
        return Check("backups", "warn", N_(
            "every %(minutes)s min to %(folder)s, %(free)s GiB free; on the instance's own disk: "
            "set backup_dir to a second disk (docs/operations.md)"), params, N_("backups"))
    return Check("backups", "ok", N_("every %(minutes)s min to %(folder)s, %(free)s GiB free"),
                 params, N_("backups"))


def run(instance: Instance, *, expected_upload_mb: int | None = None) -> list[Check]:
    database, reachable = _database_check(instance)
    if not reachable:
        return [database]
    found = _inventory(instance)
    return [database, *_event_checks(found), _font_check(instance.settings.pdf_font),
            _disk_check(instance, found.stations, expected_upload_mb),
            *_writable_checks(instance), _address_check(), _route_check(),
            _backup_check(instance)]


def _database_check(instance: Instance) -> tuple[Check, bool]:
    """The database's check, and whether it answered at all (if not, nothing else is asked)."""
    try:
        with instance.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = database.current_revision(instance.engine), database.head_revision()
    except Exception as exc:  # any failure to reach the database stops the day
        return Check("database", "fail", "%(error)s", {"error": str(exc)[:200]},
                     N_("database")), False
    ok = current == head
    return Check("database", "ok" if ok else "fail", N_("%(url)s, schema %(current)s")
                 if ok else N_("%(url)s schema %(current)s, needs %(head)s: kiosk migrate"),
                 {"url": instance.engine.url.render_as_string(), "current": current,
                  "head": head}, N_("database")), True


@dataclass(frozen=True)
class Inventory:
    """What the event's database holds for the day."""

    stations: int  # the hall's seats (a seat is one station row in each session)
    station_rows: int
    badges: int
    judge_key_roles: set[str]
    staff_roles: set[str]
    contestants: int
    questions: int
    papers: int


def _count(session, query) -> int:
    return session.scalar(query) or 0


def _inventory(instance: Instance) -> Inventory:
    with instance.session() as session:
        return Inventory(
            stations=_count(session, select(func.count(Station.code.distinct()))),
            station_rows=_count(session, select(func.count()).select_from(Station)),
            badges=_count(session, select(func.count()).select_from(Station)
                          .where(Station.token_hash.is_not(None))),
            judge_key_roles={role for (role,) in
                             session.execute(select(JudgeKey.role).distinct())},
            staff_roles={role for (role,) in session.execute(select(StaffUser.role).distinct())},
            contestants=_count(session, select(func.count()).select_from(Contestant)),
            questions=_count(session, select(func.count()).select_from(Question)
                             .where(Question.enabled)),
            papers=_count(session, select(func.count()).select_from(Paper)))


def _event_checks(found: Inventory) -> list[Check]:
    """Stations, badges, judges' keys, staff accounts, roster and papers: the event set up."""
    checks = [Check("stations", "ok" if found.stations else "fail", N_("%(n)s stations"),
                    {"n": found.stations}, N_("stations")),
              Check("badges", "ok" if found.badges == found.station_rows and found.stations
                    else "warn", N_("%(badges)s of %(n)s stations have a printed badge"),
                    {"badges": found.badges, "n": found.station_rows}, N_("badges"))]
    for role in JUDGE_KEY_ROLES:
        registered = role in found.judge_key_roles
        checks.append(Check(f"judge key {role}", "ok" if registered else "fail",
                            N_("registered") if registered else
                            N_("none: kiosk judge-key add NAME age1… --role %(role)s"),
                            {"role": role}, N_("judge key %(role)s")))
    missing_staff = sorted(set(ROLES) - found.staff_roles)
    checks.append(Check("staff accounts", "ok" if not missing_staff else "warn",
                        N_("every role has an account") if not missing_staff else
                        N_("no account for %(roles)s"), {"roles": ", ".join(missing_staff)},
                        N_("staff accounts")))
    checks.append(Check("roster", "ok" if found.contestants else "warn", N_("%(n)s contestants"),
                        {"n": found.contestants}, N_("roster")))
    checks.append(Check("theory papers",
                        "ok" if found.papers and found.papers >= found.station_rows else "warn",
                        N_("%(questions)s questions enabled, %(papers)s papers built"),
                        {"questions": found.questions, "papers": found.papers},
                        N_("theory papers")))
    return checks


def _font_check(configured: str) -> Check:
    try:
        font = find_cjk_font(configured)
    except FontMissing as exc:
        return Check("CJK font for PDFs", "fail", exc.message,
                     {k: str(v) for k, v in exc.details.items()}, N_("CJK font for PDFs"))
    return Check("CJK font for PDFs", "ok", "%(path)s", {"path": str(font.path)},
                 N_("CJK font for PDFs"))


def _disk_check(instance: Instance, stations: int, expected_upload_mb: int | None) -> Check:
    per_station = expected_upload_mb or min(instance.settings.upload_limit_mb, 500)
    needed = stations * per_station * 1024 * 1024 * 2  # ciphertext plus a backup copy
    free = shutil.disk_usage(instance.path).free
    return Check("free disk", "ok" if free >= needed else "fail", N_(
        "%(free)s GiB free, %(needed)s GiB expected (%(n)s × %(mb)s MB × 2)"),
        {"free": f"{free / 2**30:.1f}", "needed": f"{needed / 2**30:.1f}", "n": stations,
         "mb": per_station}, N_("free disk"))


def _writable_checks(instance: Instance) -> list[Check]:
    checks = []
    for folder in (instance.path / "archives", Path(tempfile.gettempdir())):
        writable = folder.is_dir() and os.access(folder, os.W_OK)
        checks.append(Check(f"writable {folder}", "ok" if writable else "fail",
                            N_("upload and temporary files go here") if writable else
                            N_("not writable"), {"folder": str(folder)},
                            N_("writable %(folder)s")))
    return checks


def _address_check() -> Check:
    addresses = lan_addresses()
    return Check("listening addresses", "ok" if addresses else "warn",
                 "%(addresses)s" if addresses else
                 N_("only loopback found; workstations need a LAN address"),
                 {"addresses": ", ".join(addresses)}, N_("listening addresses"))


def _route_check() -> Check:
    route = _default_route_exists()
    return Check("no route to the internet", "warn" if route else "ok",
                 N_("a default route exists: is this server really on the closed exam "
                    "LAN?") if route else
                 N_("no default route") if route is False else N_("unknown"),
                 label=N_("no route to the internet"))
