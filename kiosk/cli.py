"""The `kiosk` command: organisers' IT staff script the event with it.

Commands are as thin as views: they parse, call one service, print. On bad input they print one
line per problem (`line N: reason` for files), exit non-zero and change nothing. `--json` prints
one JSON object instead. `--instance DIR` (or KIOSK_INSTANCE) goes before or after the command.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import ScriptInfo

from kiosk import audit, clock
from kiosk.config import ConfigError, instance_path_from
from kiosk.errors import N_, ImportErrors, KioskError, translate_params
from kiosk.i18n import cli_gettext as _
from kiosk.instance import Instance, open_instance

CLI_ACTOR = audit.Actor.cli()


def _remember_instance(ctx: click.Context, _param, value: str | None) -> None:
    if value:
        ctx.find_root().meta["kiosk.instance"] = value


def instance_option(command: Callable) -> Callable:
    return click.option("--instance", metavar="DIR", expose_value=False, is_eager=True,
                        callback=_remember_instance,
                        help=N_("Instance folder (default: $KIOSK_INSTANCE or ./instance)."),
                        )(command)


def _remember_json(ctx: click.Context, _param, value: bool) -> bool:
    if value:
        ctx.find_root().meta["kiosk.json"] = True
    return value


def json_option(command: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, callback=_remember_json,
                        help=N_("Print one JSON object."))(command)


def instance_path() -> Path:
    return instance_path_from(click.get_current_context().find_root().meta.get("kiosk.instance"))


def open_current(migrate: bool = False) -> Instance:
    return open_instance(instance_path(), migrate=migrate)


def write_output(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def emit(as_json: bool, data: dict[str, Any], text: str | Callable[[], str]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))
    else:
        click.echo(text() if callable(text) else text)


# click's own words on a help page; click itself only speaks English.
CLICK_WORDS = {"usage": N_("Usage: "), "options": N_("Options"), "commands": N_("Commands"),
               "arguments": N_("Positional arguments"), "required": N_("required"),
               "default": N_("default: "), "help": N_("Show this message and exit.")}
_SENTENCE_END = re.compile(r"(?<=[。；：])|(?<=[.;:])\s")


class TranslatedHelp:
    """Help texts are English msgids marked with N_(): they are translated when help is shown,
    so `kiosk --help` speaks the language of KIOSK_LANG (Chinese unless it is `en`)."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                              prefix=_(CLICK_WORDS["usage"]))

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.help:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(inspect.cleandoc(_(self.help)))

    def get_short_help_str(self, limit: int = 45) -> str:
        if not self.help:
            return ""
        text = _(self.help)
        if not any(_columns(c) == 2 for c in text):
            return click.core._make_default_short_help(text, limit)
        # Chinese has no spaces to cut at: the first clause, cut to the columns it may take.
        first = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip("；：;:")
        while sum(map(_columns, first)) > limit:
            first = first[:-2] + "…"
        return first

    def format_arguments(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [_help_record(ctx, p) for p in self.get_params(ctx)
                   if isinstance(p, click.Argument) and p.help is not None]
        if records:
            with formatter.section(_(CLICK_WORDS["arguments"])):
                formatter.write_dl(records)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [record for p in self.get_params(ctx) if not isinstance(p, click.Argument)
                   if (record := _help_record(ctx, p)) is not None]
        if records:
            with formatter.section(_(CLICK_WORDS["options"])):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = [(name, command) for name in self.list_commands(ctx)
                    if (command := self.get_command(ctx, name)) and not command.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _command in commands)
            with formatter.section(_(CLICK_WORDS["commands"])):
                formatter.write_dl([(name, command.get_short_help_str(limit))
                                    for name, command in commands])


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _help_record(ctx: click.Context, param: click.Parameter) -> tuple[str, str] | None:
    translated = copy.copy(param)
    if getattr(param, "help", None):
        translated.help = _(param.help)
    record = translated.get_help_record(ctx)
    if record is None:
        return None
    # click appends "[default: 8080; required]" in English
    extra = record[1].replace("default: ", _(CLICK_WORDS["default"])).replace(
        "required]", _(CLICK_WORDS["required"]) + "]")
    return record[0], extra


class KioskCommand(TranslatedHelp, click.Command):
    pass


class KioskGroup(TranslatedHelp, click.Group):
    """Turns domain errors into one line per problem and a non-zero exit, everywhere; its
    commands and groups translate their help."""

    command_class = KioskCommand
    group_class = type

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ImportErrors as exc:
            _fail(ctx, exc.code, [p.render(_) for p in exc.problems])
        except KioskError as exc:
            params = translate_params(exc.details, _)
            _fail(ctx, exc.code, [_(exc.message, **params),
                                  *(p.render(_) for p in getattr(exc, "problems", ()))])
        except ConfigError as exc:
            _fail(ctx, "config", [str(exc)])


def _fail(ctx: click.Context, code: str, lines: list[str]) -> None:
    if ctx.find_root().meta.get("kiosk.json"):
        click.echo(json.dumps({"error": code, "message": "\n".join(lines), "problems": lines},
                              ensure_ascii=False))
    else:
        for line in lines:
            click.echo(f"kiosk: {line}", err=True)
    ctx.exit(1)


def _make_app():
    from kiosk import create_app

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
    from kiosk.instance import init_instance

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
    import signal
    from datetime import timedelta

    from kiosk import create_app
    from kiosk.backup import AutoBackup
    from kiosk.serve import serve
    from kiosk.stations.guessing import BADGE_GUARD
    from kiosk.stations.sign_in import BadgeFailureFlusher

    app = create_app(instance_path())
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


# ----------------------------------------------------------------------------- rehearsal

@main.command("rehearse", help=N_(
    "Play a whole exam day on a fresh demo instance in a few minutes and print each step's "
    "outcome: check-in, draws and seals, badges, a theory exam and hand-ins by simulated "
    "stations, export, scoring, review, unsealing, results, audit, backup and restore."))
@click.option("--to", "target", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=N_("A new folder for the rehearsal's instance (default: a new temporary one)."))
@click.option("--stations", default=12, show_default=True, type=click.IntRange(2, 60))
@json_option
def rehearse_command(target: Path | None, stations: int, as_json: bool) -> None:
    import tempfile

    from kiosk.rehearse import rehearse

    path = target or Path(tempfile.mkdtemp(prefix="kiosk-rehearsal-")) / "instance"

    def report(step) -> None:
        if not as_json:
            mark = "✓" if step.ok else "✗"
            click.echo(f"{mark} {step.name:<34} {step.seconds:7.2f} s  {step.detail}")

    run = rehearse(path, stations=stations, report=report)
    if as_json:
        click.echo(json.dumps({"ok": run.ok, "instance": str(path), "steps": [
            {"name": s.name, "ok": s.ok, "seconds": s.seconds, "detail": s.detail}
            for s in run.steps]}, ensure_ascii=False))
    else:
        click.echo(_("Rehearsal passed: the server is ready.") if run.ok else
                   _("Rehearsal FAILED at: %(step)s", step=run.steps[-1].name))
        click.echo(_("Its instance and PDFs: %(path)s", path=str(path)))
    if not run.ok:
        raise SystemExit(1)


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
    from kiosk.network import lan_addresses
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
    from kiosk.backup import make_backup

    instance = open_current()
    result = make_backup(instance, out)
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
    from kiosk.backup import restore_backup

    result = restore_backup(backup, target, database_url=database_url, sqlite=sqlite)
    emit(as_json, result, lambda: "\n".join(
        [_("Restored to %(path)s: %(n)s hand-ins, %(events)s audit events.", path=result[
            "instance"], n=result["hand_ins"], events=result["audit_events"])]
        + [_("PROBLEM: %(p)s", p=p) for p in result["problems"]]))
    if result["problems"]:
        raise SystemExit(1)


# ----------------------------------------------------------------------------- staff

@main.group("user", help=N_("Staff accounts."))
def user_group() -> None:
    pass


@user_group.command("add", help=N_(
    "Add a staff account. Without --password-stdin a random password is printed once."))
@instance_option
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(
    ["chief", "checkin", "crypt1", "crypt2", "field", "scorer", "supervisor"]))
@click.option("--password-stdin", is_flag=True, help=N_("Read the password from standard input."))
@click.option("--display-name", default="", help=N_("The person's name, shown on pages."))
@json_option
def user_add(name: str, role: str, password_stdin: bool, display_name: str,
             as_json: bool) -> None:
    from kiosk import staff

    generated = not password_stdin
    password = staff.random_password() if generated else sys.stdin.readline().rstrip("\r\n")
    instance = open_current()
    with instance.session() as session:
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
    if report.ok:
        emit(as_json, data, _("The audit log is intact: %(n)s events.", n=report.events))
        return
    emit(as_json, data, _("The audit log is BROKEN at event %(seq)s: %(reason)s",
                          seq=report.first_broken, reason=_(report.reason)))
    sys.exit(1)


def _verify_against_checkpoint(instance: Instance, text: str, as_json: bool) -> None:
    from kiosk.checkpoints import verify_for_instance

    report = verify_for_instance(instance, text)
    checkpoint, chain = report.checkpoint, report.chain
    data = {"ok": report.ok, "checkpoint": {"seq": checkpoint.seq, "hash": checkpoint.hash},
            "signature_ok": report.signature_ok, "events": chain.events if chain else None,
            "first_broken": chain.first_broken if chain else None, "reason": report.reason}
    if report.ok:
        emit(as_json, data, _("The audit log still holds checkpoint %(seq)s (%(hash)s) unbroken: "
                              "%(n)s events.", seq=checkpoint.seq, hash=checkpoint.hash[:16],
                              n=chain.events))
        return
    if not report.signature_ok:
        emit(as_json, data, _("The checkpoint is NOT genuine: %(reason)s",
                              reason=_(report.reason)))
    else:
        emit(as_json, data, _("The audit log does NOT hold checkpoint %(seq)s: broken at event "
                              "%(at)s: %(reason)s", seq=checkpoint.seq, at=chain.first_broken,
                              reason=_(report.reason)))
    sys.exit(1)


@audit_group.command("checkpoint", help=N_(
    "Sign the log's head with the server's key: a line (and QR code) to keep on paper."))
@instance_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=N_("Also print it as FILE.pdf (审计检查点记录) for the supervisor to sign."))
@json_option
def audit_checkpoint(out: Path | None, as_json: bool) -> None:
    from kiosk.checkpoints import checkpoint_for_print, checkpoint_sheet_pdf

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
    instance = open_current()
    with instance.session() as session:
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
    from kiosk.crypto import new_age_identity, write_private_file

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
@click.option("--role", required=True, type=click.Choice(["crypt1", "crypt2", "archive"]))
@json_option
def judge_key_add(name: str, recipient: str, role: str, as_json: bool) -> None:
    from kiosk.judge_keys import add_judge_key

    instance = open_current()
    with instance.session() as session:
        key = add_judge_key(session, name, recipient, role, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"name": key.name, "role": key.role, "recipient": key.recipient},
         _("Registered %(name)s's key for %(role)s.", name=key.name, role=role))


def register_capability_commands() -> None:
    from kiosk.checkin.cli import register as register_checkin
    from kiosk.collect.cli import register as register_collect
    from kiosk.demo import register as register_demo
    from kiosk.field.cli import register as register_lockdown
    from kiosk.results.cli import register as register_results
    from kiosk.theory_exam.cli import register as register_theory_exam

    for register in (register_checkin, register_theory_exam, register_lockdown,
                     register_collect, register_results, register_demo):
        register(main)


register_capability_commands()
