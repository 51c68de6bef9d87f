"""`kiosk questions …`, `paper set`, `exam scores`: the theory exam's bank, papers and results;
`paper print|hashes|switch|sheet|differences|resolve`: the paper fallback (paper_fallback).

Sessions (场次): `paper set` is the event's (every session's stations get their papers);
`exam scores --session` lists one session's stations (required once there are two)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click
from sqlalchemy import func, select

from kiosk import clock
from kiosk.cli_support import (
    CLI_ACTOR,
    emit,
    group,
    instance_option,
    instance_session,
    json_option,
    session_option,
    terminal_progress,
    text_table,
    write_output,
)
from kiosk.errors import N_, KioskError
from kiosk.i18n import cli_gettext as _
from kiosk.stations import exam_sessions
from kiosk.stations.exam_sessions import ENVIRONMENT_VARIABLE
from kiosk.tabular import json_number
from kiosk.theory_exam import paper_fallback
from kiosk.theory_exam.exam import grade_all
from kiosk.theory_exam.models import Paper
from kiosk.theory_exam.paper_print import render_papers
from kiosk.theory_exam.papers import SpecInput, parse_points, set_spec
from kiosk.theory_exam.question_bank import import_bank
from kiosk.theory_exam.score_sheets import scores_json, scores_xlsx


@group("questions", help=N_("The theory question bank (题库)."))
def questions_group() -> None:
    pass


@questions_group.command("import", help=N_(
    "Import .xlsx, .csv or .json in the bank template, or a Word bank (.docx: a table with the "
    "template's header, or numbered paragraphs); all questions or none, every problem listed."))
@instance_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def questions_import(file: Path, as_json: bool) -> None:
    with instance_session() as (_instance, session), terminal_progress(as_json) as progress:
        result = import_bank(session, file.read_bytes(), file.name, actor=CLI_ACTOR,
                             now=clock.now(), progress=progress)
    warnings = [w.render(_) for w in result.warnings]
    emit(as_json, {"imported": len(result.questions), "warnings": warnings},
         lambda: "\n".join([_("Imported %(n)s questions.", n=len(result.questions)),
                            *[_("warning: %(w)s", w=w) for w in warnings]]))


@group("paper", help=N_("The theory paper of every station."))
def paper_group() -> None:
    pass


@paper_group.command("set", help=N_("Set the paper spec and build every station's paper now."))
@instance_option
@click.option("--single", type=click.IntRange(0), default=None,
              help=N_("Single-choice questions per paper (default: the whole bank)."))
@click.option("--tf", type=click.IntRange(0), default=None,
              help=N_("True/false questions per paper (default: the whole bank)."))
@click.option("--single-points", default=None, help=N_("Points per single-choice question."))
@click.option("--tf-points", default=None, help=N_("Points per true/false question."))
@click.option("--per-category", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help=N_('JSON {"category": {"single": n, "tf": m}}.'))
@click.option("--same-questions", is_flag=True,
              help=N_("Every station gets the same questions (still shuffled)."))
@click.option("--no-shuffle-questions", is_flag=True)
@click.option("--no-shuffle-options", is_flag=True)
@click.option("--show-score", is_flag=True,
              help=N_("Show the contestant the score after submitting."))
@json_option
def paper_set(single, tf, single_points, tf_points, per_category, same_questions,
              no_shuffle_questions, no_shuffle_options, show_score, as_json) -> None:
    categories = _categories(per_category)
    wanted = SpecInput(single=single, tf=tf, single_points=parse_points(single_points),
                       tf_points=parse_points(tf_points), per_category=categories,
                       same_questions=same_questions,
                       shuffle_questions=not no_shuffle_questions,
                       shuffle_options=not no_shuffle_options, show_score=show_score)
    with instance_session() as (_instance, session):
        set_spec(session, wanted, actor=CLI_ACTOR, now=clock.now())
        count, full = session.execute(select(func.count(), func.max(Paper.full_marks))).one()
    emit(as_json, {"papers": count, "full_marks": str(full)},
         _("Built %(n)s papers, full marks %(full)s.", n=count, full=full))


def _categories(path: Path | None) -> dict | None:
    if not path:
        return None
    try:
        return json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise KioskError(_("%(path)s is not valid JSON", path=str(path))) from exc


@group("exam", help=N_("Theory exam results."))
def exam_group() -> None:
    pass


@exam_group.command("scores", help=N_(
    "Theory results by station (every paper graded, submitted or not)."))
@instance_option
@session_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=N_("Also write an .xlsx file."))
@json_option
def exam_scores(out: Path | None, as_json: bool) -> None:
    with instance_session() as (instance, session):
        results = grade_all(session, now=clock.now())
        labels = {s.code: str(exam_sessions.label(s, instance.settings))
                  for s in exam_sessions.every(session)}
    if out:
        write_output(out, scores_xlsx(results, instance.settings.event_name, labels))
    data = scores_json(results)
    emit(as_json, data, lambda: _score_table(results, labels))


GRADED_FROM = {"paper": N_("graded from paper"),
               "paper_pending": N_("paper sheet not agreed yet")}


def _score_table(results: list, labels: dict[str, str]) -> str:
    """The results as the page shows them: a header, a station a line, the paper ones named."""
    if not results:
        return _("No answers yet.")
    by_session = any(r.session for r in results)
    on_paper = any(r.graded_from for r in results)
    header = [*([_("Session")] if by_session else []), _("Station"), _("Score"),
              _("Full marks"), _("Answered"), _("Handed in"), _("Time used"),
              *([_("Graded from")] if on_paper else [])]
    rows = [[*([labels.get(r.session, r.session)] if by_session else []), r.station,
             "—" if r.graded_from == "paper_pending" else _plain(r.score), _plain(r.full_marks),
             str(r.answered), clock.local_display(r.submitted_at) if r.submitted_at else "-",
             _duration(r.time_used_s),
             *([_(GRADED_FROM[r.graded_from]) if r.graded_from else _("answered online")]
               if on_paper else [])] for r in results]
    first = 1 if by_session else 0
    return text_table([header, *rows], numeric=frozenset({first + 1, first + 2, first + 3}))


def _plain(value) -> str:
    return str(json_number(value))


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None else clock.duration_text(seconds, _)


# ----------------------------------------------------------------------------- the paper fallback

@paper_group.command("print", help=N_(
    "Print every station's own paper with its answer sheet (答题卡), each page sealed with the "
    "station number and the paper's SHA-256: the stations of the session the hall serves now, "
    "or of --session."))
@instance_option
@click.option("--session", "session_code", metavar="CODE", envvar=ENVIRONMENT_VARIABLE,
              default=None, help=N_("Session (场次) to print (default: the one the hall serves "
                                    "now)."))
@click.option("--stations", default="", help=N_("Only these stations (A01,A02)."))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@json_option
def paper_print(session_code: str | None, stations: str, out: Path, as_json: bool) -> None:
    with instance_session() as (instance, session):
        now = clock.now()
        chosen = exam_sessions.by_code(session, session_code) if session_code else \
            exam_sessions.current(session, instance.settings, now)
        exam_sessions.enter(session, chosen)
        printed = paper_fallback.printed_papers(
            session, stations.split(",") if stations.strip() else None)
        with terminal_progress(as_json) as progress:
            data = render_papers(printed, event_name=instance.settings.event_name,
                                 font_config=instance.settings.pdf_font, progress=progress)
        write_output(out, data)
        paper_fallback.record_printing(session, printed, hashlib.sha256(data).hexdigest(),
                                       actor=CLI_ACTOR, now=now)
    emit(as_json, {"session": chosen.code, "out": str(out),
                   "papers": [{"station": p.station, "sha256": p.sha256} for p in printed]},
         _("Printed %(n)s papers to %(out)s.", n=len(printed), out=str(out)))


@paper_group.command("hashes", help=N_(
    "Each station's paper SHA-256 as the server computes it from its stored paper: compare "
    "it with the one printed on a paper."))
@instance_option
@session_option
@click.option("--stations", default="", help=N_("Only these stations (A01,A02)."))
@json_option
def paper_hashes(stations: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        printed = paper_fallback.printed_papers(
            session, stations.split(",") if stations.strip() else None)
    rows = [{"station": p.station, **({"session": p.session} if p.session else {}),
             "sha256": p.sha256} for p in printed]
    emit(as_json, {"papers": rows}, lambda: _hashes_text(rows))


def _hashes_text(rows: list[dict]) -> str:
    """One line a station, under a heading per session (场次) when there are sessions."""
    lines, heading = [], None
    for row in rows:
        if row.get("session") and row["session"] != heading:
            heading = row["session"]
            lines.append(("\n" if lines else "") + _("Session %(code)s", code=heading))
        lines.append(f"{'  ' if heading else ''}{row['station']:<6} {row['sha256']}")
    return "\n".join(lines) or _("No papers built yet.")


@paper_group.command("switch", help=N_(
    "Switch a station to its printed paper (the network failed): its online saves are refused "
    "from now on and it is graded from its answer sheet."))
@instance_option
@session_option
@click.argument("station")
@click.option("--reason", required=True, help=N_("Why (recorded in the audit log)."))
@json_option
def paper_switch(station: str, reason: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        row = paper_fallback.switch_to_paper(session, station, reason, actor=CLI_ACTOR,
                                             now=clock.now())
        kept = row.online_answers
    emit(as_json, {"station": station.upper(), "on_paper": True, "online_answers": kept},
         _("%(station)s answers on paper now; %(n)s answers saved online are kept, not graded.",
           station=station.upper(), n=kept))


def _typed(answers: str) -> dict[int, str]:
    """The answers of a sheet in question order: "B,A,,对" (a comma between each; nothing for
    a blank) or "BA-对" (one character each; - for a blank)."""
    items = answers.split(",") if "," in answers else \
        ["" if char in "-_." else char for char in answers.strip()]
    return {number: item for number, item in enumerate(items, start=1) if item.strip()}


@paper_group.command("sheet", help=N_(
    "Type in a station's answer sheet as entry 1 or 2: ANSWERS in question order, e.g. "
    "\"BA-对\" (- for a blank) or \"B,A,,对\"."))
@instance_option
@session_option
@click.argument("station")
@click.argument("answers")
@click.option("--entry", type=click.IntRange(1, 2), required=True)
@json_option
def paper_sheet(station: str, answers: str, entry: int, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        answered = paper_fallback.enter_sheet(session, station, _typed(answers), entry=entry,
                                              actor=CLI_ACTOR, now=clock.now())
        current = paper_fallback.sheet(session, station)
    emit(as_json, {"station": current.station, "entry": entry, "answered": answered,
                   "differences": len(current.differences), "agreed": current.agreed},
         _("Entry %(entry)s of %(station)s: %(n)s answers; %(d)s differences.", entry=entry,
           station=current.station, n=answered, d=len(current.differences)))


def _mark(mark: str | None) -> str:
    """A sheet's answer as printed: a letter, 对 or 错 (stored T and F), blank, or — (not typed)."""
    return "—" if mark is None else (paper_fallback.TF_SHOWN.get(mark) or mark or _("blank"))


@paper_group.command("differences", help=N_(
    "The stations on paper: how far their sheets are typed in, and every question where the "
    "two entries differ."))
@instance_option
@session_option
@json_option
def paper_differences(as_json: bool) -> None:
    with instance_session() as (_instance, session):
        sheets = paper_fallback.paper_stations(session)
    data = {"stations": [{
        "station": s.station, "entries": sorted(s.entered_by), "agreed": s.agreed,
        "differences": [{"question": q.question.number, "entry_1": q.first, "entry_2": q.second,
                         "online": q.online} for q in s.differences]} for s in sheets]}

    def text() -> str:
        lines = []
        for s in sheets:
            state = _("agreed") if s.agreed else _("entries typed: %(n)s", n=len(s.entered_by))
            lines.append(f"{s.station}  {state}")
            lines += [f"  {q.question.number:>3}  {_mark(q.first)} / {_mark(q.second)}"
                      for q in s.differences]
        return "\n".join(lines) or _("No station answers on paper.")

    emit(as_json, data, text)


@paper_group.command("resolve", help=N_(
    "The chief judge's reading of question NUMBER of a station's answer sheet where the two "
    "entries differ (ANSWER as printed; \"\" for blank)."))
@instance_option
@session_option
@click.argument("station")
@click.argument("number", type=click.IntRange(1))
@click.argument("answer")
@click.option("--reason", required=True)
@json_option
def paper_resolve(station: str, number: int, answer: str, reason: str, as_json: bool) -> None:
    with instance_session() as (_instance, session):
        row = paper_fallback.resolve(session, station, number, answer, reason, actor=CLI_ACTOR,
                                     now=clock.now())
        current = paper_fallback.sheet(session, station)
    emit(as_json, {"station": current.station, "question": number, "answer": row.mark,
                   "agreed": current.agreed},
         _("Question %(number)s of %(station)s: %(answer)s.", number=number,
           station=current.station, answer=_mark(row.mark)))
