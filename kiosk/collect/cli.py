"""`kiosk receipt verify`, `export`, `verify`: hand-in receipts and the sealed bundle."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import clock, scope
from kiosk.cli_support import (
    CLI_ACTOR,
    command,
    emit,
    group,
    instance_option,
    instance_session,
    json_option,
    open_current,
    session_option,
    terminal_progress,
)
from kiosk.collect.export import export_bundle, verify_bundle
from kiosk.collect.hand_ins import verify_receipt
from kiosk.crypto import load_verify_key
from kiosk.errors import N_
from kiosk.i18n import DEFAULT_LOCALE, locale_gettext
from kiosk.i18n import cli_gettext as _
from kiosk.stations import exam_sessions


@group("receipt", help=N_("Hand-in receipts."))
def receipt_group() -> None:
    pass


@receipt_group.command("verify", help=N_(
    "Check a receipt's QR text against this server's signing key (exit 0 only if genuine)."))
@instance_option
@click.argument("payload")
@json_option
def receipt_verify(payload: str, as_json: bool) -> None:
    instance = open_current()
    receipt = verify_receipt(payload, load_verify_key(instance.keys_dir))
    facts = {"no": receipt.receipt_no, "station": receipt.station, "part": receipt.part,
             "size": receipt.size, "sha": receipt.sha256,
             "at": clock.local_display(receipt.received_at)}
    session_json = None
    if receipt.session:
        # The seat's code is the same in every session: the receipt names whose it is.
        session_json = {"code": receipt.session, "name": _session_name(instance, receipt)}
        text = _("Genuine: receipt %(no)s, session %(session)s, station %(station)s, part "
                 "%(part)s, %(size)s bytes, SHA-256 %(sha)s, received %(at)s",
                 session=session_json["name"] or receipt.session, **facts)
    else:
        text = _("Genuine: receipt %(no)s, station %(station)s, part %(part)s, %(size)s bytes, "
                 "SHA-256 %(sha)s, received %(at)s", **facts)
    emit(as_json, {"genuine": True, "receipt_no": receipt.receipt_no,
                   "station": receipt.station, "part": receipt.part, "session": session_json,
                   "received_at": clock.iso(receipt.received_at),
                   "size": receipt.size, "sha256": receipt.sha256}, text)


def _session_name(instance, receipt) -> str:
    """The receipt's session as people read it (its code if this server no longer has it)."""
    with instance.session() as session:
        found = next((s for s in exam_sessions.defined(session) if s.code == receipt.session),
                     None)
        return str(exam_sessions.label(found, instance.settings)) if found else ""


@command("export", help=N_(
    "The sealed hand-in bundle: encrypted archives, signed manifest, seal record."))
@instance_option
@session_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@json_option
def export_command(out: Path, as_json: bool) -> None:
    # The seal record is in Chinese: a default part's name from the Chinese catalog.
    with instance_session() as (instance, session):
        chosen = scope.current(session)  # --session (required once there are two)
    with terminal_progress(as_json) as progress:
        result = export_bundle(instance, out, actor=CLI_ACTOR,
                               translate=lambda name: locale_gettext(DEFAULT_LOCALE, name),
                               exam_session=chosen, progress=progress)
    emit(as_json, {"out": str(out), **result},
         _("Exported %(n)s hand-ins to %(out)s. Manifest SHA-256 %(sha)s", n=result[
             "hand_ins"], out=str(out), sha=result["manifest_sha256"]))


@command("verify", help=N_(
    "Check a bundle offline: manifest signature and every archive's hash."))
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--fingerprint", default=None,
              help=N_("The server key's fingerprint as printed on receipts and the seal "
                      "record."))
@json_option
def verify_command(folder: Path, fingerprint: str | None, as_json: bool) -> None:
    with terminal_progress(as_json) as progress:
        problems = verify_bundle(folder, expected_fingerprint=fingerprint, progress=progress)
    emit(as_json, {"ok": not problems, "problems": problems},
         lambda: "\n".join(problems) if problems else _("The bundle is intact."),
         ok=not problems)
