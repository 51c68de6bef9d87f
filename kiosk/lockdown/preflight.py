"""`kiosk preflight`: is this server ready for the day? A checklist; ✗ stops the day, ! warns."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text

from kiosk import db as database
from kiosk.instance import Instance


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn", "fail"
    detail: str


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
        return Check("backups", "warn", "automatic backups are off (backup_interval_minutes = 0)")
    folder = settings.backup_folder(instance.path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return Check("backups", "fail", f"{folder}: {exc.strerror}")
    if not os.access(folder, os.W_OK):
        return Check("backups", "fail", f"{folder} is not writable")
    same_disk = folder.stat().st_dev == instance.path.stat().st_dev
    detail = (f"every {settings.backup_interval_minutes} min to {folder}, "
              f"{shutil.disk_usage(folder).free / 2**30:.1f} GiB free")
    if same_disk:
        return Check("backups", "warn", detail + "; on the instance's own disk: set backup_dir "
                     "to a second disk (docs/operations.md)")
    return Check("backups", "ok", detail)


def run(instance: Instance, *, expected_upload_mb: int | None = None) -> list[Check]:
    from kiosk.checkin.models import Contestant
    from kiosk.lockdown.models import Station
    from kiosk.models import JudgeKey, StaffUser
    from kiosk.pdf import FontMissing, find_cjk_font
    from kiosk.serve import lan_addresses
    from kiosk.theory_exam.models import Paper, Question

    checks: list[Check] = []
    settings = instance.settings
    try:
        with instance.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = database.current_revision(instance.engine), database.head_revision()
        checks.append(Check("database", "ok" if current == head else "fail",
                            f"{instance.engine.url.render_as_string()} schema {current}"
                            + ("" if current == head else f", needs {head}: kiosk migrate")))
    except Exception as exc:  # any failure to reach the database stops the day
        checks.append(Check("database", "fail", str(exc)[:200]))
        return checks
    with instance.session() as session:
        stations = session.scalar(select(func.count()).select_from(Station)) or 0
        badges = session.scalar(select(func.count()).select_from(Station)
                                .where(Station.token_hash.is_not(None))) or 0
        roles = {role for (role,) in session.execute(select(JudgeKey.role).distinct())}
        staff = {role for (role,) in session.execute(select(StaffUser.role).distinct())}
        roster = session.scalar(select(func.count()).select_from(Contestant)) or 0
        questions = session.scalar(select(func.count()).select_from(Question)
                                   .where(Question.enabled)) or 0
        papers = session.scalar(select(func.count()).select_from(Paper)) or 0
    checks.append(Check("stations", "ok" if stations else "fail", f"{stations} stations"))
    checks.append(Check("badges", "ok" if badges == stations and stations else "warn",
                        f"{badges} of {stations} stations have a printed badge"))
    for role in ("crypt1", "crypt2", "archive"):
        checks.append(Check(f"judge key {role}", "ok" if role in roles else "fail",
                            "registered" if role in roles else
                            f"none: kiosk judge-key add NAME age1… --role {role}"))
    missing_staff = sorted({"chief", "checkin", "crypt1", "crypt2", "field", "scorer",
                            "supervisor"} - staff)
    checks.append(Check("staff accounts", "ok" if not missing_staff else "warn",
                        "every role has an account" if not missing_staff else
                        "no account for " + ", ".join(missing_staff)))
    checks.append(Check("roster", "ok" if roster else "warn", f"{roster} contestants"))
    checks.append(Check("theory papers", "ok" if papers and papers >= stations else "warn",
                        f"{questions} questions enabled, {papers} papers built"))
    try:
        font = find_cjk_font(settings.pdf_font)
        checks.append(Check("CJK font for PDFs", "ok", str(font.path)))
    except FontMissing as exc:
        checks.append(Check("CJK font for PDFs", "fail", exc.message))
    per_station = expected_upload_mb or min(settings.upload_limit_mb, 500)
    needed = stations * per_station * 1024 * 1024 * 2  # ciphertext plus a backup copy
    free = shutil.disk_usage(instance.path).free
    checks.append(Check("free disk", "ok" if free >= needed else "fail",
                        f"{free / 2**30:.1f} GiB free, {needed / 2**30:.1f} GiB expected "
                        f"({stations} × {per_station} MB × 2)"))
    for folder in (instance.path / "archives", Path(tempfile.gettempdir())):
        writable = folder.is_dir() and os.access(folder, os.W_OK)
        checks.append(Check(f"writable {folder}", "ok" if writable else "fail",
                            "upload and temporary files go here" if writable else "not writable"))
    addresses = lan_addresses()
    checks.append(Check("listening addresses", "ok" if addresses else "warn",
                        ", ".join(addresses) or "only loopback found; workstations need a LAN "
                        "address"))
    route = _default_route_exists()
    checks.append(Check("no route to the internet", "warn" if route else "ok",
                        "a default route exists: is this server really on the closed exam LAN?"
                        if route else ("no default route" if route is False else "unknown")))
    checks.append(_backup_check(instance))
    return checks
