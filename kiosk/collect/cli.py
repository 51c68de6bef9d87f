"""`kiosk receipt verify`, `export`, `verify`: hand-in receipts and the sealed bundle."""

from __future__ import annotations

from pathlib import Path

import click

from kiosk import clock
from kiosk.cli_support import (
    CLI_ACTOR,
    command,
    emit,
    group,
    instance_option,
    json_option,
    open_current,
    session_option,
)
from kiosk.collect.export import export_bundle, verify_bundle
from kiosk.collect.hand_ins import verify_receipt
from kiosk.crypto import load_verify_key
from kiosk.errors import N_
from kiosk.i18n import DEFAULT_LOCALE, locale_gettext
from kiosk.i18n import cli_gettext as _


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
    emit(as_json, {"genuine": True, "receipt_no": receipt.receipt_no,
                   "station": receipt.station, "part": receipt.part,
                   "received_at": clock.iso(receipt.received_at),
                   "size": receipt.size, "sha256": receipt.sha256},
         _("Genuine: receipt %(no)s, station %(station)s, part %(part)s, %(size)s bytes, "
           "SHA-256 %(sha)s, received %(at)s", no=receipt.receipt_no, station=receipt.station,
           part=receipt.part, size=receipt.size, sha=receipt.sha256,
           at=clock.local_display(receipt.received_at)))


@command("export", help=N_(
    "The sealed hand-in bundle: encrypted archives, signed manifest, seal record."))
@instance_option
@session_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@json_option
def export_command(out: Path, as_json: bool) -> None:
    # The seal record is in Chinese: a default part's name from the Chinese catalog.
    result = export_bundle(open_current(), out, actor=CLI_ACTOR,
                           translate=lambda name: locale_gettext(DEFAULT_LOCALE, name))
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
    problems = verify_bundle(folder, expected_fingerprint=fingerprint)
    emit(as_json, {"ok": not problems, "problems": problems},
         lambda: "\n".join(problems) if problems else _("The bundle is intact."),
         ok=not problems)
