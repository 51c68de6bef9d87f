"""`kiosk roster …`, `checkin`, `draw`, `seal`, `records`, `badges`, `sessions draw`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import clock
from kiosk.checkin import draw_stages, idcard, session_draw
from kiosk.checkin.badges import render_badges
from kiosk.checkin.models import DrawRound
from kiosk.checkin.records import record_sheet, session_draw_sheet
from kiosk.checkin.roster import check_in, checkin_sheet_pdf, import_roster, withdraw
from kiosk.checkpoints import checkpoint_for_print
from kiosk.cli_support import (
    CLI_ACTOR,
    command,
    cosigned_supervisor,
    emit,
    group,
    instance_option,
    instance_session,
    json_option,
    open_current,
    session_option,
    supervisor_password,
    terminal_progress,
    write_output,
)
from kiosk.errors import N_, KioskError
from kiosk.i18n import cli_gettext as _
from kiosk.instance import Instance
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.stations.sign_in import issue_badges

# `kiosk draw` without --entropy: the commitment is made (or shown) and the draw waits for the
# public entropy. Distinct from 0 (drawn) and 1 (refused) so that a script never takes one for
# the other.
EXIT_WAITING_FOR_ENTROPY = 3


def session_label(instance: Instance, session: Session) -> str:
    """The name of the session a command is about, as its paper prints it."""
    return str(exam_sessions.label(exam_sessions.chosen(session), instance.settings))


@contextmanager
def event_session() -> Iterator[tuple[Instance, Session]]:
    """The instance and a session over the whole event, whatever --session says (the session
    draw's paper is about every session)."""
    instance = open_current()
    with instance.session() as session:
        yield instance, session


@group("roster", help=N_("The contestants' roster (检录表)."))
def roster_group() -> None:
    pass


@roster_group.command("import", help=N_(
    "Import .xlsx or .csv (UTF-8, UTF-8 BOM, GB18030/GBK); all rows or none."))
@instance_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def roster_import(file: Path, as_json: bool) -> None:
    with instance_session() as (instance, session), terminal_progress(as_json) as progress:
        imported = import_roster(session, file.read_bytes(), file.name,
                                 groups=instance.settings.groups, actor=CLI_ACTOR,
                                 now=clock.now(), progress=progress)
    emit(as_json, {"imported": len(imported)},
         _("Imported %(n)s contestants.", n=len(imported)))


@roster_group.command("withdraw", help=N_(
    "Record that a contestant cannot come (kept on the roster, refused at check-in)."))
@instance_option
@click.argument("id_number")
@click.option("--reason", required=True, help=N_("Why they cannot come."))
@json_option
def roster_withdraw(id_number: str, reason: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        person = withdraw(session, id_number, reason, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"name": person.name, "id_number": idcard.mask(person.id_number),
                   "withdrawn_at": clock.iso(person.withdrawn_at),
                   "reason": person.withdrawn_reason},
         _("%(name)s is withdrawn (reason: %(reason)s); kept on the roster.",
           name=person.name, reason=person.withdrawn_reason))


@roster_group.command("sheet", help=N_(
    "The check-in sheet (检录单) as a PDF, with signature lines."))
@instance_option
@session_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def roster_sheet(out: Path) -> None:
    with instance_session() as (instance, session):
        data = checkin_sheet_pdf(session, event_name=instance.settings.event_name,
                                 session_name=session_label(instance, session),
                                 checkpoint=checkpoint_for_print(instance),
                                 font_config=instance.settings.pdf_font)
    write_output(out, data)
    click.echo(str(out))


@command("checkin", help=N_("Mark a contestant present (same as the check-in desk)."))
@instance_option
@session_option
@click.argument("id_number")
@json_option
def checkin_command(id_number: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        result = check_in(session, id_number, staff_id=None, actor=CLI_ACTOR, now=clock.now())
    person = result.contestant
    data = {"name": person.name, "id_number": idcard.mask(person.id_number),
            "group": person.group, "already": result.already,
            "checked_in_at": clock.iso(result.at)}
    if result.already:
        text = _("%(name)s was already checked in at %(time)s by %(by)s; nothing changed.",
                 name=person.name, time=clock.local_display(result.at, "%H:%M"), by=result.by)
    else:
        text = _("%(name)s (%(group)s) is checked in.", name=person.name, group=person.group)
    emit(as_json, data, text)


@command("draw", help=N_(
    "Run a draw over the checked-in contestants (same as the ceremony page): first without "
    "--entropy (commit, exit 3), then with it. Once its pairs were shown (printed with "
    "--json, on the page or the record sheet) the result is final: a redraw needs "
    "--supervisor and --reason."))
@instance_option
@session_option
@click.option("--stage", required=True, type=click.IntRange(1, 2))
@click.option("--entropy", default=None,
              help=N_("Public entropy, e.g. dice rolls in order, entered after the commitment "
                   "was shown. Without it: only commit, and exit 3."))
@click.option("--commitment", default=None, metavar="HEX",
              help=N_("The commitment the entropy was entered against (default: the one "
                   "waiting for entropy)."))
@click.option("--late", "late", default=None, metavar="ID|NO",
              help=N_("Give a late arrival (ID number, or contestant number for stage 2) the "
                   "next free item."))
@click.option("--supervisor", default=None, metavar="USERNAME",
              help=N_("A redraw after the result was shown: the supervisor who co-signs it; "
                      "the password is asked for (or read from $KIOSK_SUPERVISOR_PASSWORD)."))
@click.option("--reason", default="", help=N_("A redraw after the result was shown: why."))
@json_option
def draw_command(stage: int, entropy: str | None, commitment: str | None, late: str | None,
                 supervisor: str | None, reason: str, as_json: bool) -> None:
    with instance_session() as (instance, session):
        if late:
            value = draw_stages.assign_late(session, stage, late, actor=CLI_ACTOR,
                                            now=clock.now(), sealed_dir=instance.sealed_dir)
            emit(as_json, {"stage": stage, "late": late, "assigned": value},
                 _("Assigned %(value)s.", value=value))
            return
        round_ = draw_stages.current_round(session, stage)
        waiting = round_ is not None and round_.status == "committed"
        if entropy is None:
            _commit_and_wait(session, instance, stage, round_ if waiting else None,
                             supervisor, reason, as_json)
        # Never commit here: entropy typed together with a commitment nobody has seen yet
        # would prove nothing. The service refuses when no commitment is waiting.
        shown = commitment if commitment is not None else (round_.commitment if waiting else "")
        round_ = draw_stages.draw(session, stage, entropy, commitment=shown, actor=CLI_ACTOR,
                                  now=clock.now())
        # --json prints the pairs: shown, and final from now on.
        mapping = draw_stages.show_result(session, stage, actor=CLI_ACTOR, now=clock.now()) \
            if as_json else draw_stages.plaintext_mapping(session, stage)
    if stage == 1:
        items = [{"id_number": p["id_number"], "contestant_no": p["contestant_no"]}
                 for p in mapping.pairs]
    else:
        items = [{"contestant_no": p["contestant_no"], "station": p["station"]}
                 for p in mapping.pairs]
    emit(as_json, {"stage": stage, "commitment": round_.commitment,
                   "entropy": round_.entropy, "assignments": items},
         _("Stage %(stage)s drawn: %(n)s assigned. Commitment %(c)s, entropy %(e)s.",
           stage=stage, n=len(items), c=round_.commitment, e=round_.entropy))


def _commit_and_wait(session: Session, instance: Instance, stage: int,
                     waiting: DrawRound | None, supervisor: str | None, reason: str,
                     as_json: bool) -> None:
    """`kiosk draw` without --entropy: show the commitment waiting, or make one (a redraw
    co-signed by `--supervisor`), then exit 3."""
    round_ = waiting
    if round_ is None:
        redraw = None
        if supervisor:
            user = cosigned_supervisor(session, instance, supervisor,
                                       supervisor_password(supervisor))
            redraw = draw_stages.Redraw(cosigner=user.username, reason=reason)
        round_ = draw_stages.commit(session, stage, actor=CLI_ACTOR, now=clock.now(),
                                    redraw=redraw)
    emit(as_json, {"stage": stage, "commitment": round_.commitment, "entropy": None,
                   "assignments": []},
         _("Commitment for stage %(stage)s: %(c)s — now enter the public entropy "
           "with --entropy.", stage=stage, c=round_.commitment))
    # Not a finished draw: a script must not carry on as if it were one.
    raise SystemExit(EXIT_WAITING_FOR_ENTROPY)


@command("records", help=N_(
    "Print a stage's record sheet before sealing (prepares the seal, fixing its SHA-256), or "
    "with --sessions the session draw's record (场次抽签记录表)."))
@instance_option
@session_option
@click.option("--stage", type=click.IntRange(1, 2), default=None)
@click.option("--sessions", "sessions_record", is_flag=True,
              help=N_("The session draw record (场次抽签记录表) for the leaders' meeting; "
                      "publishes the result if it was not shown yet."))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--station-record", is_flag=True,
              help=N_("Stage 2: the station draw record (竞赛工位抽签记录表) for signatures."))
def records_command(stage: int | None, sessions_record: bool, out: Path,
                    station_record: bool) -> None:
    if sessions_record == (stage is not None):
        raise KioskError(_("Give either --stage 1|2 or --sessions."))
    if sessions_record:
        with event_session() as (instance, session):
            result = session_draw.show_result(session, actor=CLI_ACTOR, now=clock.now())
            data = session_draw_sheet(result, event_name=instance.settings.event_name,
                                      checkpoint=checkpoint_for_print(instance),
                                      font_config=instance.settings.pdf_font)
        write_output(out, data)
        click.echo(str(out))
        return
    with instance_session() as (instance, session):
        settings = instance.settings
        round_ = draw_stages.current_round(session, stage)
        if round_ is not None and round_.status == "drawn":
            draw_stages.prepare_seal(session, stage, event_name=settings.event_name,
                                     actor=CLI_ACTOR, now=clock.now())
        mapping = draw_stages.show_result(session, stage, actor=CLI_ACTOR, now=clock.now())
        kind = "station" if station_record and stage == 2 else stage
        # After prepare_seal: the paper vouches for the event that fixed the record's hash.
        data = record_sheet(mapping, kind=kind, event_name=settings.event_name,
                            session_name=session_label(instance, session),
                            checkpoint=checkpoint_for_print(instance),
                            font_config=settings.pdf_font)
    write_output(out, data)
    click.echo(str(out))


@command("seal", help=N_(
    "Encrypt the stage's mapping to its judges' keys and erase the plaintext."))
@instance_option
@session_option
@click.option("--stage", required=True, type=click.IntRange(1, 2))
@json_option
def seal_command(stage: int, as_json: bool) -> None:
    with instance_session() as (instance, session):
        round_ = draw_stages.seal(session, stage, event_name=instance.settings.event_name,
                                  actor=CLI_ACTOR, now=clock.now())
        files = draw_stages.export_sealed(session, stage, instance.sealed_dir)
    emit(as_json, {"stage": stage, "sealed_sha256": round_.ciphertext_sha256,
                   "commitment": round_.commitment, "files": [str(f) for f in files]},
         _("Stage %(stage)s sealed. SHA-256 of the sealed record: %(sha)s — file: "
           "%(file)s", stage=stage, sha=round_.ciphertext_sha256, file=str(files[0])))


@command("badges", help=N_(
    "Print QR station badges. Each printed badge gets a new token: older badges of the same "
    "stations stop working."))
@instance_option
@session_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--stations", default="",
              help=N_("Comma-separated station codes (default: all)."))
@json_option
def badges_command(out: Path, stations: str, as_json: bool) -> None:
    wanted = [code.strip().upper() for code in stations.split(",") if code.strip()]
    with instance_session() as (instance, session):
        query = select(Station).order_by(Station.code)
        if wanted:
            query = query.where(Station.code.in_(wanted))
        chosen = list(session.scalars(query))
        unknown = sorted(set(wanted) - {s.code for s in chosen})
        if unknown:
            raise KioskError(_("Unknown stations: %(codes)s", codes=", ".join(unknown)))
        if not chosen:
            raise KioskError(_("There are no stations; add them with kiosk stations add."))
        secrets = issue_badges(session, chosen, badge_key=instance.badge_key(),
                               actor=CLI_ACTOR, now=clock.now())
        label = session_label(instance, session)
    data = render_badges(secrets, event_name=instance.settings.event_name,
                         session_name=label,
                         font_config=instance.settings.pdf_font)
    write_output(out, data)
    emit(as_json, {"out": str(out), "stations": [s.station for s in secrets]},
         _("Printed %(n)s badges to %(out)s; older badges of these stations no longer "
           "work.", n=len(secrets), out=str(out)))


@command("draw", help=N_(
    "The session draw (场次抽签) at the leaders' meeting: first without --entropy (commit, "
    "exit 3), then with it. Public: --json prints every contestant's session and publishes "
    "the result, which is final from then on; before that a redraw needs --reason."))
@instance_option
@click.option("--entropy", default=None,
              help=N_("Public entropy from the leaders' meeting (e.g. dice rolls in order), "
                      "entered after the commitment was shown. Without it: only commit, and "
                      "exit 3."))
@click.option("--commitment", default=None, metavar="HEX",
              help=N_("The commitment the entropy was entered against (default: the one "
                      "waiting for entropy)."))
@click.option("--reason", default="",
              help=N_("Replace the session draw under way (before it is published): why."))
@json_option
def sessions_draw_command(entropy: str | None, commitment: str | None, reason: str,
                          as_json: bool) -> None:
    with event_session() as (_instance, session):
        round_ = session_draw.current_round(session)
        if entropy is None and (round_ is None or round_.status == "committed" or reason):
            if round_ is None or reason:
                round_ = session_draw.commit(session, actor=CLI_ACTOR, now=clock.now(),
                                             reason=reason)
            emit(as_json, {"commitment": round_.commitment, "entropy": None,
                           "assignments": []},
                 _("Commitment of the session draw: %(c)s — now enter the public entropy "
                   "with --entropy.", c=round_.commitment))
            raise SystemExit(EXIT_WAITING_FOR_ENTROPY)
        if entropy is not None:
            # Never commit here (see `kiosk draw`): the service refuses when none is waiting.
            waiting = round_ is not None and round_.status == "committed"
            shown = commitment if commitment is not None else \
                (round_.commitment if waiting else "")
            session_draw.draw(session, entropy, commitment=shown, actor=CLI_ACTOR,
                              now=clock.now())
        # --json prints everyone's session: published, and final from now on.
        result = session_draw.show_result(session, actor=CLI_ACTOR, now=clock.now()) \
            if as_json else session_draw.drawn_result(session)
        data = result.as_json()
        counts = result.counts()
    emit(as_json, data,
         _("Session draw: %(counts)s. Commitment %(c)s, entropy %(e)s.",
           counts=", ".join(f"{code} {n}" for code, n in counts.items()),
           c=data["commitment"], e=data["entropy"]))
