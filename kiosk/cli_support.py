"""What every `kiosk` command shares: the `--instance` and `--json` options, opening the instance,
printing one JSON object or text, the supervisor's co-signature, and the command and group classes
that translate help texts and turn domain errors into one line per problem.

Each capability's `cli.py` imports these at the top and defines its commands at module level;
`kiosk/cli.py` adds them to `main`. Commands are made with `command()` and `group()` below (or
`@some_group.command`), so that every one of them translates its help.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from kiosk import audit, clock, progress, staff
from kiosk.config import ConfigError, instance_path_from
from kiosk.errors import N_, ImportErrors, KioskError, translate_params
from kiosk.i18n import cli_gettext as _
from kiosk.instance import Instance, open_instance
from kiosk.models import StaffUser
from kiosk.stations import exam_sessions
from kiosk.stations.exam_sessions import ENVIRONMENT_VARIABLE

CLI_ACTOR = audit.Actor.cli()


# ----------------------------------------------------------------------------- options

def _remember_instance(ctx: click.Context, _param, value: str | None) -> None:
    if value:
        ctx.find_root().meta["kiosk.instance"] = value


def instance_option(command: Callable) -> Callable:
    """`--instance DIR`, accepted before or after the command name."""
    return click.option("--instance", metavar="DIR", expose_value=False, is_eager=True,
                        callback=_remember_instance,
                        help=N_("Instance folder (default: $KIOSK_INSTANCE or ./instance)."),
                        )(command)


def _remember_session(ctx: click.Context, _param, value: str | None) -> None:
    # Remembered as asked for, "" when not given: instance_session() then scopes to it.
    ctx.find_root().meta["kiosk.session"] = value or ""


def session_option(command: Callable) -> Callable:
    """`--session CODE` (or $KIOSK_SESSION): the session (场次) a command acts on; required
    once the event has two (kiosk.stations.exam_sessions.choose)."""
    return click.option("--session", "session_code", metavar="CODE", expose_value=False,
                        envvar=ENVIRONMENT_VARIABLE, callback=_remember_session,
                        help=N_("Session (场次) to act on (default: $KIOSK_SESSION; required "
                                "once there are two)."))(command)


def chosen_session_code() -> str | None:
    """The `--session` a command was given ("" if none), None for a command without one."""
    return click.get_current_context().find_root().meta.get("kiosk.session")


def _remember_json(ctx: click.Context, _param, value: bool) -> bool:
    if value:
        ctx.find_root().meta["kiosk.json"] = True
    return value


def json_option(command: Callable) -> Callable:
    """`--json`; remembered on the root context so that a refusal is printed as JSON too."""
    return click.option("--json", "as_json", is_flag=True, callback=_remember_json,
                        help=N_("Print one JSON object."))(command)


# ----------------------------------------------------------------------------- the instance

def instance_path() -> Path:
    return instance_path_from(click.get_current_context().find_root().meta.get("kiosk.instance"))


def open_current(migrate: bool = False) -> Instance:
    return open_instance(instance_path(), migrate=migrate)


@contextmanager
def instance_session() -> Iterator[tuple[Instance, Session]]:
    """The current instance and one session on it: how most commands begin. A command with
    `--session` sees that session's rows only (kiosk.scope); one without sees the event."""
    instance = open_current()
    with instance.session() as session:
        code = chosen_session_code()
        if code is not None:
            exam_sessions.enter(session, exam_sessions.choose(session, code or None))
        yield instance, session


def supervisor_password(username: str) -> str:
    """The co-signing supervisor's password: $KIOSK_SUPERVISOR_PASSWORD, else asked for."""
    password = os.environ.get("KIOSK_SUPERVISOR_PASSWORD")
    if password is None:
        password = click.prompt(_("Password of supervisor %(user)s", user=username),
                                hide_input=True, err=True)
    return password


def cosigned_supervisor(session: Session, instance: Instance, username: str,
                        password: str) -> StaffUser:
    """The supervisor present at the server's console, checked and throttled like a sign-in."""
    return staff.cosign(session, username, password, role="supervisor", address="cli",
                        device=staff.CONSOLE_DEVICE, now=clock.now(),
                        limit_per_minute=instance.settings.login_attempts_per_minute)


# ----------------------------------------------------------------------------- output

def write_output(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def terminal_progress(as_json: bool) -> progress.Progress:
    """A bar on standard error for long work, when that is a terminal and not --json; use it
    as a context manager, so that an error is printed below a finished line."""
    return progress.for_terminal(as_json, _)


def emit(as_json: bool, data: dict[str, Any], text: str | Callable[[], str],
         ok: bool = True) -> None:
    """One JSON object or the text; a report that is not `ok` is printed, then exits 1."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=None, default=str))
    else:
        click.echo(text() if callable(text) else text)
    if not ok:
        raise SystemExit(1)


# ----------------------------------------------------------------------------- translated help

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


def text_table(rows: list[list[str]], numeric: frozenset[int] = frozenset()) -> str:
    """Rows as aligned columns on a terminal, Chinese counted two columns wide; the columns
    in `numeric` aligned right."""
    widths = [max(sum(map(_columns, row[i])) for row in rows) for i in range(len(rows[0]))]

    def cell(text: str, i: int) -> str:
        pad = " " * (widths[i] - sum(map(_columns, text)))
        return pad + text if i in numeric else text + pad

    return "\n".join("  ".join(cell(text, i) for i, text in enumerate(row)).rstrip()
                     for row in rows)


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


# ----------------------------------------------------------------------------- command classes

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


def command(name: str, **attrs: Any) -> Callable[[Callable], KioskCommand]:
    """A top-level command, for `main.add_command`; its help is translated when shown."""
    return click.command(name, cls=KioskCommand, **attrs)


def group(name: str, **attrs: Any) -> Callable[[Callable], KioskGroup]:
    """A top-level group; its own commands and groups translate their help too."""
    return click.group(name, cls=KioskGroup, **attrs)
