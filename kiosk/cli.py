"""The `kiosk` command: organisers' IT staff script the event with it.

Commands are as thin as views: they parse, call one service, print. On bad input they print one
line per problem (`line N: reason` for files), exit non-zero and change nothing. `--json` prints
one JSON object instead. `--instance DIR` (or KIOSK_INSTANCE) goes before or after the command.

This module holds `main`, the commands about the instance itself (init, serve, demo, backups,
staff, audit, judge keys), and adds each capability's commands from its own `cli.py`; what every
command shares is in `kiosk.cli_support`.
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import click
from flask.cli import ScriptInfo

from kiosk import audit, clock, create_app, staff
from kiosk.backup import AutoBackup, make_backup, restore_backup
from kiosk.checkin import cli as checkin_cli
from kiosk.checkpoints import checkpoint_for_print, checkpoint_sheet_pdf, verify_for_instance
from kiosk.cli_support import (
    CLI_ACTOR,
    KioskGroup,
    emit,
    instance_option,
    instance_path,
    instance_session,
    json_option,
    open_current,
    terminal_progress,
    write_output,
)
from kiosk.collect import cli as collect_cli
from kiosk.crypto import new_age_identity, write_private_file
from kiosk.demo import open_or_build_demo, pdf_font_check, print_demo, reachable_addresses
from kiosk.errors import N_, KioskError
from kiosk.field import cli as field_cli
from kiosk.i18n import cli_gettext as _
from kiosk.instance import Instance, init_instance
from kiosk.judge_keys import add_judge_key
from kiosk.materials import cli as materials_cli
from kiosk.models import JUDGE_KEY_ROLES, ROLES
from kiosk.network import lan_addresses
from kiosk.rehearse import rehearse
from kiosk.results import cli as results_cli
from kiosk.serve import connections_for, serve
from kiosk.stations.guessing import BADGE_GUARD
from kiosk.stations.sign_in import BadgeFailureFlusher
from kiosk.theory_exam import cli as theory_exam_cli


def _make_app():
    return create_app(instance_path())


@click.group(cls=KioskGroup, context_settings={"help_option_names": ["-h", "--help"]},
             help=N_("kiosk: the exam-day server of a skill competition. Chinese by default; "
                     "KIOSK_LANG=en for English."))
@instance_option
@click.pass_context
def main(ctx: click.Context) -> None:
    ctx.obj = ScriptInfo(create_app=_make_app, set_debug_flag=False, load_dotenv_defaults=False)


# ----------------------------------------------------------------------------- instance

@main.command("init", help=N_(
    "Create an empty instance (schema, keys); refuses to touch an existing one."))
@instance_option
@click.option("--event-name", default="职业技能竞赛",
              help=N_("The event's name on pages and prints."))
@json_option
def init_command(event_name: str, as_json: bool) -> None:
    path = instance_path()
    instance = init_instance(path, event_name=event_name)
    emit(as_json, {"instance": str(path), "database": instance.engine.url.render_as_string()},
         _("Created the instance %(path)s.", path=str(path)))


@main.command("migrate", help=N_(
    "Bring the database schema up to this version of kiosk (back up first)."))
@instance_option
def migrate_command() -> None:
    open_current(migrate=True)
    click.echo(_("The database schema is up to date."))


@main.command("serve", help=N_("Serve the instance with waitress."))
@instance_option
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256))
def serve_command(host: str, port: int, threads: int) -> None:
    app = create_app(instance_path(), pool_size=connections_for(threads))
    settings = app.config["KIOSK_SETTINGS"]
    click.echo(_("Serving %(event)s on http://%(host)s:%(port)s/", event=settings.event_name,
                 host=host, port=port))
    if settings.backup_interval_minutes:
        folder = settings.backup_folder(instance_path())
        AutoBackup(app.extensions["kiosk"], folder,
                   timedelta(minutes=settings.backup_interval_minutes),
                   settings.backup_keep).start()
        click.echo(_("Automatic backups every %(n)s minutes during the exam, to %(folder)s",
                     n=settings.backup_interval_minutes, folder=str(folder)))
    flusher = BadgeFailureFlusher(app.extensions["kiosk"], app.extensions[BADGE_GUARD])
    flusher.start()
    # systemd and `kill` stop the server with SIGTERM, which would end Python without running
    # anything more; as SystemExit, waitress closes and the tally of wrong badge codes is
    # written below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(app, host, port, threads)
    finally:
        flusher.stop(clock.now())


@main.command("demo", help=N_(
    "Create (or reuse) a complete demo instance from seed/, print the logins, serve it."))
@instance_option
@click.option("--no-serve", is_flag=True, help=N_("Create the demo instance and stop."))
@click.option("--host", default="0.0.0.0", show_default=True, help=N_(
    "The address to listen on: 0.0.0.0 for every network card, so that the workstations on "
    "the LAN can reach the demo; 127.0.0.1 for this machine only."))
@click.option("--port", default=8080, show_default=True, type=int)
@json_option
def demo_command(no_serve: bool, host: str, port: int, as_json: bool) -> None:
    path = instance_path()
    instance, info, created = open_or_build_demo(path)
    instance.engine.dispose()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}/"
    lan_urls = [f"http://{address}:{port}/" for address in
                reachable_addresses(instance.settings.allowed_networks)
                ] if host in ("0.0.0.0", "::") else []
    font, font_problem = pdf_font_check(instance.settings.pdf_font)
    if as_json:
        click.echo(json.dumps({"url": url, "lan_urls": lan_urls, "instance": str(path),
                               "created": created, "pdf_font": font,
                               "users": info["users"], "judge_keys": info["judge_keys"],
                               "stations": info.get("stations", []),
                               "badges_pdf": info.get("badges_pdf")},
                              ensure_ascii=False))
    else:
        print_demo(path, info, created, url, lan_urls, font, font_problem,
                   bound=host in ("0.0.0.0", "::"))
    if not no_serve:
        serve(create_app(path, pool_size=connections_for(16)), host, port, threads=16)


# ----------------------------------------------------------------------------- rehearsal

@main.command("rehearse", help=N_(
    "Play a whole exam day on a fresh demo instance in a few minutes and print each step's "
    "outcome: check-in, draws and seals, badges, a theory exam and hand-ins by simulated "
    "stations, export, scoring, review, unsealing, results, audit, backup and restore."))
@click.option("--to", "target", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=N_("A new folder for the rehearsal's instance (default: a new temporary one)."))
@click.option("--stations", default=12, show_default=True, type=click.IntRange(2, 60))
@click.option("--sessions", default=1, show_default=True, type=click.IntRange(1, 3),
              help=N_("Play a day of this many sessions (场次), one group each: the session "
                      "draw, then each session's day on the same stations, one ranking."))
@click.option("--timetable", "timetable_file", default=None,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=N_("Play this timetable's day (timetable.toml, e.g. seed/timetables/…), each "
                      "part in order; default: theory, then practical."))
@json_option
def rehearse_command(target: Path | None, stations: int, sessions: int,
                     timetable_file: Path | None, as_json: bool) -> None:

    path = target or Path(tempfile.mkdtemp(prefix="kiosk-rehearsal-")) / "instance"

    def report(step) -> None:
        if not as_json:
            mark = "✓" if step.ok else "✗"
            click.echo(f"{mark} {step.name:<44} {step.seconds:7.2f} s  {step.detail}")

    if sessions > 1 and timetable_file is not None:
        raise KioskError(N_("--sessions plays the default day; give it without --timetable."))
    run = rehearse(path, stations=stations, timetable_file=timetable_file, sessions=sessions,
                   report=report)
    emit(as_json, {"ok": run.ok, "instance": str(path), "steps": [
        {"name": s.name, "ok": s.ok, "seconds": s.seconds, "detail": s.detail}
        for s in run.steps]}, lambda: "\n".join([
            _("Rehearsal passed: the server is ready.") if run.ok else
            _("Rehearsal FAILED at: %(step)s", step=run.steps[-1].name),
            _("Its instance and PDFs: %(path)s", path=str(path))]), ok=run.ok)


# ----------------------------------------------------------------------------- HTTPS

@main.group("tls", help=N_("Optional HTTPS on the exam LAN (a local CA; see deploy/tls/)."))
def tls_group() -> None:
    pass


@tls_group.command("init", help=N_(
    "Make a local certificate authority and the server certificate in <instance>/tls/."))
@instance_option
@click.option("--host", "hosts", multiple=True, help=N_("An address or name of the server "
              "(repeatable; default: its LAN addresses, localhost and 127.0.0.1)."))
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 400))
@json_option
def tls_init_command(hosts: tuple[str, ...], days: int, as_json: bool) -> None:
    # cryptography's x509 layer costs `kiosk --help` more than all other commands' imports
    # together (measured: ~70 ms CPU of ~1.1 s); only this command needs it.
    from kiosk.tls import make_certificates

    instance = open_current()
    names = list(hosts) or [*lan_addresses(), "localhost", "127.0.0.1"]
    result = make_certificates(instance.path / "tls", event_name=instance.settings.event_name,
                               hosts=names, now=clock.now(), days=days)
    emit(as_json, result, lambda: "\n".join([
        _("CA and server certificate written to %(folder)s for %(hosts)s.",
          folder=result["folder"], hosts=", ".join(names)),
        _("CA fingerprint (SHA-256), to compare on each workstation: %(fp)s",
          fp=result["ca_sha256"]),
        _("Next: a TLS terminator (deploy/tls/), behind_proxy = true, and ca.crt on every "
          "workstation.")]))


# ----------------------------------------------------------------------------- backups

@main.command("backup", help=N_(
    "A consistent copy of the instance while it runs: database, hand-ins, sealed records, keys and "
    "config (keep it like the server: it holds the keys)."))
@instance_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("The backup file to write (.tar); never overwritten."))
@json_option
def backup_command(out: Path, as_json: bool) -> None:
    instance = open_current()
    with terminal_progress(as_json) as progress:
        result = make_backup(instance, out, progress=progress)
    emit(as_json, result, _("Backup written to %(out)s (%(size)s bytes, SHA-256 %(sha)s)",
                            out=result["out"], size=result["size"], sha=result["sha256"]))


@main.command("restore", help=N_(
    "Bring a standby up from a backup: every file's hash is checked first, the restored database, "
    "audit chain and archives are checked after."))
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "target", required=True, type=click.Path(file_okay=False, path_type=Path),
              help=N_("A new (or empty) instance folder."))
@click.option("--database-url", default="", help=N_("Restore into this (empty) database, e.g. "
              "postgresql+psycopg://…"))
@click.option("--sqlite", is_flag=True, help=N_("Restore into a SQLite file in the new folder, "
              "whatever database the backup came from."))
@json_option
def restore_command(backup: Path, target: Path, database_url: str, sqlite: bool,
                    as_json: bool) -> None:
    with terminal_progress(as_json) as progress:
        result = restore_backup(backup, target, database_url=database_url, sqlite=sqlite,
                                progress=progress)
    emit(as_json, result, lambda: "\n".join(
        [_("Restored to %(path)s: %(n)s hand-ins, %(events)s audit events.", path=result[
            "instance"], n=result["hand_ins"], events=result["audit_events"])]
        + [_("PROBLEM: %(p)s", p=p) for p in result["problems"]]), ok=not result["problems"])


# ----------------------------------------------------------------------------- staff

@main.group("user", help=N_("Staff accounts."))
def user_group() -> None:
    pass


@user_group.command("add", help=N_(
    "Add a staff account. Without --password-stdin a random password is printed once."))
@instance_option
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password-stdin", is_flag=True, help=N_("Read the password from standard input."))
@click.option("--display-name", default="", help=N_("The person's name, shown on pages."))
@json_option
def user_add(name: str, role: str, password_stdin: bool, display_name: str,
             as_json: bool) -> None:
    generated = not password_stdin
    password = staff.random_password() if generated else sys.stdin.readline().rstrip("\r\n")
    with instance_session() as (_instance, session):
        staff.add_user(session, name, role, password, actor=CLI_ACTOR, now=clock.now(),
                       display_name=display_name)
    data = {"username": name, "role": role}
    if generated:
        data["password"] = password
    emit(as_json, data, (_("Added %(name)s (%(role)s).", name=name, role=role)
                         + (" " + _("Password: %(password)s", password=password)
                            if generated else "")))


# ----------------------------------------------------------------------------- audit

@main.group("audit", help=N_("The tamper-evident audit log."))
def audit_group() -> None:
    pass


@audit_group.command("verify", help=N_(
    "Check the audit log's hash chain end to end; name the first broken event. With --checkpoint, "
    "also that the checkpoint is this server's and the log still holds its event with its hash, "
    "unbroken through it to the head."))
@instance_option
@click.option("--checkpoint", "checkpoint_text", default="", metavar="TEXT",
              help=N_("A signed checkpoint (KAC1.…) from paper: the log must still hold it."))
@json_option
def audit_verify(checkpoint_text: str, as_json: bool) -> None:
    instance = open_current()
    if checkpoint_text:
        _verify_against_checkpoint(instance, checkpoint_text, as_json)
        return
    with instance.session() as session:
        report = audit.verify_chain(session)
    data = {"ok": report.ok, "events": report.events, "first_broken": report.first_broken,
            "reason": report.reason}
    emit(as_json, data, _("The audit log is intact: %(n)s events.", n=report.events)
         if report.ok else _("The audit log is BROKEN at event %(seq)s: %(reason)s",
                             seq=report.first_broken, reason=_(report.reason)), ok=report.ok)


def _verify_against_checkpoint(instance: Instance, text: str, as_json: bool) -> None:
    report = verify_for_instance(instance, text)
    checkpoint, chain = report.checkpoint, report.chain
    data = {"ok": report.ok, "checkpoint": {"seq": checkpoint.seq, "hash": checkpoint.hash},
            "signature_ok": report.signature_ok, "events": chain.events if chain else None,
            "first_broken": chain.first_broken if chain else None, "reason": report.reason}
    if report.ok:
        message = _("The audit log still holds checkpoint %(seq)s (%(hash)s) unbroken: "
                    "%(n)s events.", seq=checkpoint.seq, hash=checkpoint.hash[:16], n=chain.events)
    elif not report.signature_ok:
        message = _("The checkpoint is NOT genuine: %(reason)s", reason=_(report.reason))
    else:
        message = _("The audit log does NOT hold checkpoint %(seq)s: broken at event "
                    "%(at)s: %(reason)s", seq=checkpoint.seq, at=chain.first_broken,
                    reason=_(report.reason))
    emit(as_json, data, message, ok=report.ok)


@audit_group.command("checkpoint", help=N_(
    "Sign the log's head with the server's key: a line (and QR code) to keep on paper."))
@instance_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=N_("Also print it as FILE.pdf (审计检查点记录) for the supervisor to sign."))
@json_option
def audit_checkpoint(out: Path | None, as_json: bool) -> None:
    instance = open_current()
    checkpoint = checkpoint_for_print(instance)
    if out is not None:
        write_output(out, checkpoint_sheet_pdf(checkpoint, event_name=instance.settings.event_name,
                                               font_config=instance.settings.pdf_font))
    emit(as_json, checkpoint.as_json(), lambda: "\n".join([
        _("Audit checkpoint: event %(seq)s, hash %(hash)s, at %(at)s", seq=checkpoint.seq,
          hash=checkpoint.hash, at=clock.local_display(checkpoint.at)),
        checkpoint.text]))


@audit_group.command("export", help=N_(
    "Every audit event as JSON Lines, exactly as hashed: for checking checkpoints offline "
    "(docs/audit-checkpoints.md)."))
@instance_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("The JSON Lines file to write, one event a line."))
@json_option
def audit_export(out: Path, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        count = audit.export_events(session, out)
    emit(as_json, {"out": str(out), "events": count},
         _("Wrote %(n)s audit events to %(out)s", n=count, out=str(out)))


# ----------------------------------------------------------------------------- judge keys

@main.group("judge-key", help=N_("Judges' age keys (the private part stays with the judge)."))
def judge_key_group() -> None:
    pass


@judge_key_group.command("new", help=N_(
    "Write a new age identity file and print its public recipient (age1…).\n\n"
    "Run it on the judge's own machine; the file opens with the standard `age -d -i FILE`."))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Where to write the private identity file (never overwritten)."))
@json_option
def judge_key_new(out: Path, as_json: bool) -> None:
    if out.exists():
        raise KioskError(_("%(path)s exists already; a key file is never overwritten.",
                           path=str(out)))
    text, recipient = new_age_identity()
    write_private_file(out, text.encode("ascii"))
    emit(as_json, {"identity_file": str(out), "recipient": recipient}, recipient)


@judge_key_group.command("add", help=N_("Register a judge's public key for a role."))
@instance_option
@click.argument("name")
@click.argument("recipient")
@click.option("--role", required=True, type=click.Choice(JUDGE_KEY_ROLES))
@json_option
def judge_key_add(name: str, recipient: str, role: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        key = add_judge_key(session, name, recipient, role, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"name": key.name, "role": key.role, "recipient": key.recipient},
         _("Registered %(name)s's key for %(role)s.", name=key.name, role=role))



# Each capability's commands, from its own cli.py.
for capability_command in (
        checkin_cli.roster_group, checkin_cli.checkin_command, checkin_cli.draw_command,
        checkin_cli.records_command, checkin_cli.seal_command, checkin_cli.badges_command,
        theory_exam_cli.questions_group, theory_exam_cli.paper_group, theory_exam_cli.exam_group,
        field_cli.sessions_group, field_cli.stations_group, field_cli.phase_command,
        field_cli.timetable_group, field_cli.extend_command,
        field_cli.announce_command, field_cli.lockdown_group, field_cli.preflight_command,
        field_cli.hall_group,
        collect_cli.receipt_group, collect_cli.export_command, collect_cli.verify_command,
        results_cli.scores_group, results_cli.review_group, results_cli.unseal_command,
        results_cli.results_command, materials_cli.materials_group):
    main.add_command(capability_command)
# The session draw is the check-in room's; `kiosk sessions` itself is the hall's.
field_cli.sessions_group.add_command(checkin_cli.sessions_draw_command)
