"""`kiosk scores …`, `kiosk review …`, `kiosk unseal`, `kiosk results`: from the marks to the
signed results sheet.

Sessions (场次): scoring is event-wide (one review sample, one lock, one ranking per group), so
`--session` is optional where it narrows or names (`scores import`, `diff`, `list`: that
session's rows only; `scores resolve|deduct`, `review confirm|error|correct`: the station's
session, or write the station as `AM/A01`), and required where each session has its own
(`unseal`: its own seals). `scores lock|unlock|withdraw|tasks`, `review draw|status` and
`results` act on the whole event and take none (docs/results.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy.orm import Session

from kiosk import clock
from kiosk.checkpoints import checkpoint_for_print
from kiosk.cli_support import (
    CLI_ACTOR,
    chosen_session_code,
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
from kiosk.crypto import read_identity_file
from kiosk.errors import N_, KioskError
from kiosk.i18n import cli_gettext as _
from kiosk.instance import Instance
from kiosk.results import (
    deductions,
    final,
    review,
    seats,
    stages,
    submission,
    tasks,
    totals,
    unsealing,
)
from kiosk.results.mark_entry import differences, import_marks, parse_mark, resolve
from kiosk.stations import exam_sessions
from kiosk.tabular import json_number


def theory_weight(instance: Instance) -> Decimal:
    return Decimal(str(instance.settings.theory_weight))


@contextmanager
def event_or_session() -> Iterator[tuple[Instance, Session]]:
    """The instance and a session on it scoped to `--session` when one is named, else the whole
    event (unlike `instance_session`, several sessions and none named is no refusal here)."""
    instance = open_current()
    with instance.session() as session:
        code = chosen_session_code()
        if code:
            exam_sessions.enter(session, exam_sessions.by_code(session, code))
        yield instance, session


def _mark(text: str) -> Decimal:
    value = parse_mark(text)
    if value is None:
        raise KioskError(_("%(value)s is not a mark (two decimals at most)", value=text))
    return value


# ----------------------------------------------------------------------------- scores

@group("scores", help=N_("Practical marks by station (two independent entries)."))
def scores_group() -> None:
    pass


def _differences(session: Session) -> list[dict]:
    return [{"station": d.station, **({"session": d.session} if d.session else {}),
             "task": d.task,
             "entry_1": str(d.first) if d.first is not None else None,
             "entry_2": str(d.second) if d.second is not None else None}
            for d in differences(session)]


def _lines(items: list[dict]) -> str:
    return "\n".join(f"{seats.key(d.get('session', ''), d['station']):<6} "
                     f"{d['task'] or _('total'):<12} "
                     f"{d['entry_1'] or '—':>8} {d['entry_2'] or '—':>8}" for d in items)


@scores_group.command("import", help=N_(
    "Import marks (赛位号, 分数, optional task columns; 场次 first once there are sessions); "
    "all rows or none. With --session: that session's rows only."))
@instance_option
@session_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--entry", required=True, type=click.IntRange(1, 2),
              help=N_("1 for the first scorekeeper, 2 for the second."))
@json_option
def scores_import(file: Path, entry: int, as_json: bool) -> None:
    with event_or_session() as (instance, session), terminal_progress(as_json) as progress:
        count = import_marks(session, file.read_bytes(), file.name, entry=entry,
                             full_marks=Decimal(instance.settings.practical_full_marks),
                             actor=CLI_ACTOR, now=clock.now(), progress=progress)
        found = _differences(session)
    emit(as_json, {"entry": entry, "stations": count, "differences": found},
         lambda: "\n".join([_("Entry %(entry)s: %(n)s stations.", entry=entry, n=count),
                            _("Differences to resolve: %(n)s", n=len(found)),
                            _lines(found)]).rstrip())


@scores_group.group("tasks", help=N_(
    "The practical's tasks and their full marks (scores by module)."))
def scores_tasks() -> None:
    pass


def _tasks_state(session: Session, settings) -> dict:
    fulls = tasks.full_marks(session)
    headings = tasks.labels(session)
    return {"tasks": [{"task": task, "name": headings.get(task, task),
                       "full_marks": json_number(points)} for task, points in fulls.items()],
            "parts": [part.key for part in tasks.practical_parts(session)],
            "practical_full_marks": json_number(tasks.practical_full(
                session, Decimal(settings.practical_full_marks)))}


def _emit_tasks(state: dict, as_json: bool) -> None:
    def text() -> str:
        lines = [f"{t['task']:<8} {t['name']:<12} {t['full_marks']:>6}" for t in state["tasks"]]
        lines.append(_("Practical full marks: %(full)s", full=state["practical_full_marks"]))
        return "\n".join(lines)

    emit(as_json, state, text)


@scores_tasks.command("set", help=N_(
    "Set the tasks and their full marks, e.g. \"A=25,B=30,C=40,模块D=5\" (a part's key or "
    "name, or any task column); their sum becomes the practical's full marks. An empty text "
    "removes them."))
@instance_option
@click.argument("spec")
@json_option
def scores_tasks_set(spec: str, as_json: bool) -> None:
    with instance_session() as (instance, session):
        tasks.set_tasks(session, spec, actor=CLI_ACTOR, now=clock.now())
        state = _tasks_state(session, instance.settings)
    _emit_tasks(state, as_json)


@scores_tasks.command("show", help=N_("The tasks, their full marks and the practical's."))
@instance_option
@json_option
def scores_tasks_show(as_json: bool) -> None:
    with instance_session() as (instance, session):
        state = _tasks_state(session, instance.settings)
    _emit_tasks(state, as_json)


@scores_group.command("diff", help=N_(
    "Every station and task where the two entries differ or one is missing."))
@instance_option
@session_option
@json_option
def scores_diff(as_json: bool) -> None:
    with event_or_session() as (_instance, session):
        found = _differences(session)
    emit(as_json, {"differences": found},
         lambda: _lines(found) or _("The two entries agree everywhere."))


@scores_group.command("resolve", help=N_(
    "The chief judge's decision on a difference, with the reason."))
@instance_option
@session_option
@click.argument("station")
@click.argument("mark")
@click.option("--reason", required=True)
@click.option("--task", default="", help=N_("A task column; empty: the total."))
@json_option
def scores_resolve(station: str, mark: str, reason: str, task: str, as_json: bool) -> None:
    value = _mark(mark)
    with event_or_session() as (_instance, session):
        row = resolve(session, station, value, reason, task=task, actor=CLI_ACTOR,
                      now=clock.now())
        seat = _seat(session, row.station_id)
    emit(as_json, {**seat, "task": task, "mark": str(value)}, _("Resolved."))


def _seat(session: Session, station_id: int) -> dict:
    """{"station"} and, in an event of sessions, {"session"} of a station row."""
    session_code, code = seats.split(seats.seats_by_id(session, [station_id])[station_id])
    return {"station": code, **({"session": session_code} if session_code else {})}


@scores_group.command("list", help=N_(
    "Every station's theory, practical, deductions and total (the locked copy once locked); "
    "stations without a total say why."))
@instance_option
@session_option
@json_option
def scores_list(as_json: bool) -> None:
    with event_or_session() as (instance, session):
        current = totals.results(session, theory_weight=theory_weight(instance),
                                 now=clock.now())
        stage = stages.stage(session)

    def text() -> str:
        lines = [_("Stage: %(stage)s", stage=stage)]
        for r in current:
            why = "; ".join(_(p) for p in r.problems)
            by_task = " ".join(f"{task}={mark}" for task, mark in r.tasks.items())
            lines.append(f"{r.seat:<6} {r.theory_weighted or '—':>7} "
                         f"{r.practical or '—':>7} {by_task} {r.deduction or '':>6} "
                         f"{r.total or '—':>7}  {why}".rstrip())
        return "\n".join(lines)

    emit(as_json, {"stage": stage, "stations": [r.to_json() for r in current]}, text)


@scores_group.command("deduct", help=N_(
    "A deduction for a violation: a share of the total (5%) or points (2)."))
@instance_option
@session_option
@click.argument("station")
@click.argument("amount")
@click.option("--reason", required=True)
@click.option("--approved-by", required=True, help=N_("Who approved the deduction."))
@json_option
def scores_deduct(station: str, amount: str, reason: str, approved_by: str,
                  as_json: bool) -> None:
    with event_or_session() as (_instance, session):
        row = deductions.add_deduction(session, station, amount, reason, approved_by,
                                       actor=CLI_ACTOR, now=clock.now())
        data = {"id": row.id, **_seat(session, row.station_id), "unit": row.unit,
                "amount": str(row.amount)}
    emit(as_json, data, _("Deduction %(id)s recorded.", id=data["id"]))


@scores_group.command("withdraw", help=N_(
    "Withdraw a deduction (before the review sample is drawn)."))
@instance_option
@click.argument("deduction_id", type=int)
@click.option("--reason", required=True)
@json_option
def scores_withdraw(deduction_id: int, reason: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        deductions.withdraw_deduction(session, deduction_id, reason, actor=CLI_ACTOR,
                                      now=clock.now())
    emit(as_json, {"withdrawn": deduction_id}, _("Withdrawn."))


@scores_group.command("lock", help=N_(
    "Submit the station-number results (needs every total and a finished review)."))
@instance_option
@json_option
def scores_lock(as_json: bool) -> None:
    with instance_session() as (instance, session):
        row = submission.lock(session, theory_weight=theory_weight(instance), actor=CLI_ACTOR,
                              now=clock.now())
        data = {"sha256": row.sha256, "locked_at": clock.iso(row.locked_at)}
    emit(as_json, data, _("Results locked. SHA-256 %(sha)s", sha=data["sha256"]))


@scores_group.command("unlock", help=N_(
    "Reopen the review (only before anything is unsealed)."))
@instance_option
@click.option("--reason", required=True)
@json_option
def scores_unlock(reason: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        submission.unlock(session, reason, actor=CLI_ACTOR, now=clock.now())
    emit(as_json, {"unlocked": True}, _("Unlocked."))


# ----------------------------------------------------------------------------- review

@group("review", help=N_("复核: the review sample, its outcomes and corrections."))
def review_group() -> None:
    pass


def _review_state(session: Session) -> dict:
    state = review.progress(session)
    return {"drawn": state.sample is not None,
            "seed": state.sample.seed if state.sample else None,
            "full_review": bool(state.sample and state.sample.full_review),
            "total": state.total, "pending": state.pending, "confirmed": state.confirmed,
            "errors": state.errors, "corrected": state.corrected,
            "error_rate": str(state.error_rate) if state.error_rate is not None else None,
            "items": [{**_seat_text(seat), "why": item.why, "status": item.status,
                       "reviewed_mark": str(item.reviewed_mark)
                       if item.reviewed_mark is not None else None,
                       "corrected_mark": str(item.corrected_mark)
                       if item.corrected_mark is not None else None}
                      for item, seat in review.items(session)]}


def _seat_text(seat: str) -> dict:
    session_code, code = seats.split(seat)
    return {"station": code, **({"session": session_code} if session_code else {})}


def _emit_review(session: Session, as_json: bool) -> None:
    """Every review command answers with where the review stands."""
    state = _review_state(session)

    def text() -> str:
        lines = [_("Sample: %(total)s stations, %(pending)s to review, %(errors)s errors "
                   "reported, %(corrected)s corrected.", **state)]
        if state["full_review"]:
            lines.append(_("More than 5%% of the sample was wrong: every station is reviewed."))
        lines += [f"{seats.key(i.get('session', ''), i['station']):<6} {i['why']:<7} "
                  f"{i['status']}" for i in state["items"]]
        return "\n".join(lines)

    emit(as_json, state, text)


@review_group.command("draw", help=N_(
    "Draw the sample: the top 30% by total and a random 15% among the rest."))
@instance_option
@json_option
def review_draw(as_json: bool) -> None:
    with instance_session() as (instance, session):
        review.draw_sample(session, theory_weight=theory_weight(instance),
                           actor=CLI_ACTOR, now=clock.now())
        _emit_review(session, as_json)


@review_group.command("status", help=N_("The sample and where its review stands."))
@instance_option
@json_option
def review_status(as_json: bool) -> None:
    with instance_session() as (_instance, session):
        _emit_review(session, as_json)


@review_group.command("confirm", help=N_("The sampled station's result is right."))
@instance_option
@session_option
@click.argument("station")
@click.option("--note", default="")
@json_option
def review_confirm(station: str, note: str, as_json: bool) -> None:
    with event_or_session() as (_instance, session):
        review.record_outcome(session, station, correct=True, note=note, actor=CLI_ACTOR,
                              now=clock.now())
        _emit_review(session, as_json)


@review_group.command("error", help=N_(
    "The sampled station's practical mark is wrong: what it should be, and why."))
@instance_option
@session_option
@click.argument("station")
@click.argument("mark")
@click.option("--note", required=True)
@json_option
def review_error(station: str, mark: str, note: str, as_json: bool) -> None:
    with event_or_session() as (_instance, session):
        review.record_outcome(session, station, correct=False, mark=_mark(mark), note=note,
                              actor=CLI_ACTOR, now=clock.now())
        _emit_review(session, as_json)


@review_group.command("correct", help=N_(
    "The chief judge's correction of a practical mark during the review."))
@instance_option
@session_option
@click.argument("station")
@click.argument("mark")
@click.option("--reason", required=True)
@json_option
def review_correct(station: str, mark: str, reason: str, as_json: bool) -> None:
    with event_or_session() as (_instance, session):
        review.correct(session, station, _mark(mark), reason, actor=CLI_ACTOR, now=clock.now())
        _emit_review(session, as_json)


# ----------------------------------------------------------------------------- unsealing

@command("unseal", help=N_(
    "逐层解密: open the draw records layer by layer (stage 2, then 1) with the encryption "
    "judges' identity files, under a supervisor, once the results are locked. Each layer is "
    "recomputed and checked against its printed commitment. Each session (场次) is unsealed "
    "on its own: --session names it once there are two."))
@instance_option
@session_option
@click.option("--identity", "identities", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--supervisor", required=True, metavar="USERNAME",
              help=N_("The supervisor present; the password is asked for (or read from "
                   "$KIOSK_SUPERVISOR_PASSWORD)."))
@json_option
def unseal_command(identities: tuple[Path, ...], supervisor: str, as_json: bool) -> None:
    keys = [key for path in identities for key in read_identity_file(path)]
    password = supervisor_password(supervisor)
    with instance_session() as (instance, session):
        user = cosigned_supervisor(session, instance, supervisor, password)
        opened = unsealing.open_what_opens(session, keys, actor=CLI_ACTOR,
                                           supervisor=user.username, now=clock.now())
        layers = [{"stage": row.stage, "verified": row.verified,
                   "problems": json.loads(row.problems or "[]"),
                   "sealed_sha256": row.sealed_sha256} for row in opened]
        linked = unsealing.links(session) if unsealing.is_unsealed(session) else {}
    links = [{**_seat_text(seat), **person} for seat, person in sorted(linked.items())]

    def text() -> str:
        lines = []
        for s in layers:
            state = _("verified") if s["verified"] else _("NOT VERIFIED: %(p)s",
                                                         p="; ".join(s["problems"]))
            lines.append(_("Stage %(stage)s opened, %(state)s", stage=s["stage"], state=state))
        lines += [f"{seats.key(link.get('session', ''), link['station'])}  "
                  f"{link['contestant_no']}  {link['name'] or ''}  "
                  f"{link['group'] or ''}" for link in links]
        return "\n".join(lines)

    emit(as_json, {"stages": layers, "links": links}, text,
         ok=all(s["verified"] for s in layers))


# ----------------------------------------------------------------------------- final results

@command("results", help=N_(
    "The final ranking per group once unsealed (成绩汇总表); before the unsealing, the locked "
    "results by station only."))
@instance_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=N_("FILE.pdf for the signed results sheet, FILE.xlsx for a spreadsheet."))
@json_option
def results_command(out: Path | None, as_json: bool) -> None:
    with instance_session() as (instance, session):
        result = final.final_results(session, seats.session_labels(session, instance.settings))
        data = final.results_json(result)
        if out is not None:
            write_output(out, _results_file(result, instance, out.suffix.lower()))

    def text() -> str:
        lines = []
        if result.sealed:
            lines.append(_("Still sealed: stations only, no groups or awards."))
        for group_ in data["groups"]:
            if group_["group"]:
                lines.append(f"== {group_['group']}")
            lines += [f"{r['rank']:>3}  {seats.key(r.get('session', ''), r['station']):<6} "
                      f"{r['contestant_no'] or '':<6} "
                      f"{r['name'] or '':<8} {r['total']:>7}  {r['award'] or ''}".rstrip()
                      for r in group_["ranking"]]
        if out is not None:
            lines.append(_("Written to %(out)s", out=str(out)))
        return "\n".join(lines)

    emit(as_json, data, text)


def _results_file(result: final.FinalResults, instance: Instance, suffix: str) -> bytes:
    """The results as a spreadsheet (.xlsx) or as the signed results sheet (anything else)."""
    settings = instance.settings
    if suffix == ".xlsx":
        return final.results_xlsx(result, event_name=settings.event_name)
    return final.results_pdf(result, event_name=settings.event_name,
                             session_name=settings.session_name, now=clock.now(),
                             theory_weight=theory_weight(instance),
                             practical_full=Decimal(settings.practical_full_marks),
                             checkpoint=checkpoint_for_print(instance),
                             font_config=settings.pdf_font)
