"""`kiosk demo`: a complete demo event from seed/, then serve it.

Demo only: the judges' private keys are written into the instance so that the whole day can be
rehearsed on one machine. Real judges make their keys on their own machines and register only the
public part (`kiosk judge-key new` there, `kiosk judge-key add` here).
"""

from __future__ import annotations

import ipaddress
import json
import unicodedata
from decimal import Decimal
from importlib import resources
from pathlib import Path

import click

from kiosk import audit, clock, network, staff
from kiosk.checkin.badges import render_badges
from kiosk.checkin.roster import import_roster
from kiosk.crypto import new_age_identity, write_private_file
from kiosk.errors import N_, InstanceError
from kiosk.field.hall_layout import import_layout
from kiosk.i18n import cli_gettext as _
from kiosk.instance import Instance, init_instance, open_instance
from kiosk.judge_keys import add_judge_key
from kiosk.models import JUDGE_KEY_ROLES
from kiosk.network import address_allowed
from kiosk.pdf import FontMissing, find_cjk_font, register_font
from kiosk.staff_views import KEY_HOLDER_LABELS
from kiosk.stations.registry import add_stations
from kiosk.stations.sign_in import issue_badges
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank

DEMO_MARKER = "DEMO.json"  # logins and key paths of a demo instance; never in a real one
DEMO_ACTOR = audit.Actor("demo", "cli")
KEY_WARNING = N_(
    "!!! DEMO KEYS: the judges' private keys were written into this instance so that the day "
    "can be rehearsed on one machine. For a real event each judge makes a key on their own "
    "machine (kiosk judge-key new --out FILE) and only the public age1… recipient is registered "
    "here (kiosk judge-key add). !!!")


def seed_file(name: str) -> bytes:
    return (resources.files("kiosk.seed") / name).read_bytes()


def build_demo(path: Path) -> tuple[Instance, dict]:
    """Create the demo instance; return it and what to tell the user."""
    event = json.loads(seed_file("event.json"))
    instance = init_instance(path, event_name=event["event_name"])
    now = clock.now()
    with instance.session() as session:
        import_roster(session, seed_file("roster.csv"), "roster.csv",
                      groups=instance.settings.groups, actor=DEMO_ACTOR, now=now)
        import_bank(session, seed_file("question_bank.csv"), "question_bank.csv",
                    actor=DEMO_ACTOR, now=now)
        stations = add_stations(session, event["stations"]["count"],
                                prefix=event["stations"]["prefix"], first_ip=None,
                                actor=DEMO_ACTOR, now=now)
        badges = issue_badges(session, stations, badge_key=instance.badge_key(),
                              actor=DEMO_ACTOR, now=now)
        # The hall as seed 000's 场地布局图 draws one: rows of seats, aisles, spare seats.
        import_layout(session, seed_file("hall_layout.txt"), "hall_layout.txt",
                      actor=DEMO_ACTOR, now=now)
        users = []
        for username, role in event["staff"]:
            password = staff.random_password()
            staff.add_user(session, username, role, password, actor=DEMO_ACTOR, now=now)
            users.append({"username": username, "role": role, "password": password})
        paper = event["paper"]
        set_spec(session, SpecInput(single=paper["single"], tf=paper["tf"],
                                    single_points=Decimal(paper["single_points"]),
                                    tf_points=Decimal(paper["tf_points"])),
                 actor=DEMO_ACTOR, now=now)
        keys = []
        for role in JUDGE_KEY_ROLES:
            text, recipient = new_age_identity()
            identity_file = path / "demo-judge-keys" / f"{role}.agekey"
            write_private_file(identity_file, text.encode("ascii"))
            add_judge_key(session, f"demo {role}", recipient, role, actor=DEMO_ACTOR, now=now)
            keys.append({"role": role, "identity_file": str(identity_file),
                         "recipient": recipient})
    info = {"users": users, "judge_keys": keys, "paper": event["paper"],
            "stations": [{"station": b.station, "code": b.fallback_display} for b in badges]}
    try:
        (path / "demo-badges.pdf").write_bytes(render_badges(
            badges, event_name=instance.settings.event_name,
            session_name=instance.settings.session_name))
        info["badges_pdf"] = str(path / "demo-badges.pdf")
    except FontMissing:
        info["badges_pdf"] = None  # no CJK font here; `kiosk badges` says what to install
    write_private_file(path / DEMO_MARKER, json.dumps(info, ensure_ascii=False,
                                                      indent=2).encode("utf-8"))
    return instance, info


def open_or_build_demo(path: Path) -> tuple[Instance, dict, bool]:
    """An existing demo instance is reused (its logins are printed again); an existing real
    instance is never touched."""
    marker = path / DEMO_MARKER
    if marker.exists():
        return open_instance(path, migrate=True), json.loads(marker.read_text("utf-8")), False
    if path.exists() and any(path.iterdir()):
        raise InstanceError(f"{path} holds an instance that is not a demo; kiosk demo never "
                            "touches it. Use --instance to choose another folder.")
    instance, info = build_demo(path)
    return instance, info, True


def reachable_addresses(allowed_networks: list[str]) -> list[str]:
    """This machine's addresses that the server answers on: inside the allowed networks."""
    networks = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    return [a for a in network.lan_addresses() if address_allowed(a, networks)]


def pdf_font_check(configured: str) -> tuple[str | None, str | None]:
    """The CJK font the PDFs will embed, or what is wrong: a demo whose badges cannot print
    says so at its start, not at the first click on 打印."""
    try:
        choice = find_cjk_font(configured)
        register_font(str(choice.path), choice.index)
    except FontMissing as exc:
        return None, _(exc.message, **exc.details)
    return str(choice.path), None


def pad(text: str, columns: int) -> str:
    """Left-aligned in `columns` terminal columns: a Chinese character takes two."""
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(columns - width, 0)


def print_demo(path: Path, info: dict, created: bool, url: str, lan_urls: list[str],
               font: str | None, font_problem: str | None, *, bound: bool) -> None:
    def heading(text: str) -> None:
        click.echo("")
        click.echo(click.style(f"== {text} ==", bold=True))

    click.echo(_("Demo instance: %(path)s", path=str(path)) + (
        "" if created else "  " + _("(reused; delete the folder to start afresh)")))

    heading(_("Addresses"))
    click.echo(_("On this machine: staff %(login)s · workstations %(kiosk)s",
                 login=url + "login", kiosk=url + "kiosk"))
    for lan in lan_urls:
        click.echo(_("From the hall's network: staff %(login)s · workstations %(kiosk)s",
                     login=lan + "login", kiosk=lan + "kiosk"))
    if bound and not lan_urls:
        click.echo(_("No address of this machine is inside the allowed networks "
                     "(allowed_networks in config.toml): workstations on the LAN cannot reach "
                     "this server, only this machine can."))
    sample = info.get("stations", [])[:3]
    if sample:
        click.echo(_("Badge codes for the workstations, e.g. %(codes)s (all in %(file)s)",
                     codes=", ".join(f"{s['station']} {s['code']}" for s in sample),
                     file=info.get("badges_pdf") or str(path / DEMO_MARKER)))

    heading(_("Staff accounts (demo passwords, also kept in %(file)s)",
              file=str(path / DEMO_MARKER)))
    def role_name(role: str) -> str:
        # The names the pages use (--json keeps the codes).
        return _(KEY_HOLDER_LABELS[role]) if role in KEY_HOLDER_LABELS else role

    username, role, password = _("Username"), _("Role"), _("Password")
    click.echo(f"  {pad(username, 12)} {pad(role, 16)} {password}")
    for user in info["users"]:
        click.echo(f"  {user['username']:<12} {pad(role_name(user['role']), 16)} "
                   f"{user['password']}")

    heading(_("Demo judge keys"))
    recipient, identity_file = _("Public key (age recipient)"), _("Private key file")
    click.echo(f"  {pad(role, 16)} {pad(recipient, 62)}  {identity_file}")
    for key in info["judge_keys"]:
        click.echo(f"  {pad(role_name(key['role']), 16)} {key['recipient']:<62}  "
                   f"{key['identity_file']}")
    click.echo(_(KEY_WARNING))

    heading(_("PDFs (badges, sheets, receipts)"))
    if font:
        click.echo(_("Chinese font embedded in every PDF: %(font)s", font=font))
    else:
        click.echo(click.style(_("!!! PDFs cannot be printed: %(problem)s",
                                 problem=font_problem), bold=True))
        click.echo(_("Install a Chinese TrueType font, then run kiosk demo again: "
                     "sudo apt-get install fonts-wqy-zenhei (Debian, Ubuntu), sudo dnf install "
                     "wqy-zenhei-fonts (Fedora). Badges are printed from the 工位牌 page."))

    click.echo("")
    click.echo(_("To try the theory exam: kiosk phase start theory --minutes 10, then "
                 "sign a workstation in with a badge code."))
