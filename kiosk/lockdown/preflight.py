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
    backups = instance.path / "backups"
    has_backup = backups.is_dir() and any(backups.iterdir())
    checks.append(Check("backups", "ok" if has_backup else "warn",
                        "backups present" if has_backup else
                        "no backup yet in backups/ (automatic backups arrive with issue 8)"))
    return checks
