"""`kiosk questions …`, `paper set`, `exam scores`: the theory exam's bank, papers and results.

Sessions (场次): `paper set` is the event's (every session's stations get their papers);
`exam scores --session` lists one session's stations (required once there are two)."""

from __future__ import annotations

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
    write_output,
)
from kiosk.errors import N_, KioskError
from kiosk.i18n import cli_gettext as _
from kiosk.stations import exam_sessions
from kiosk.theory_exam.exam import grade_all
from kiosk.theory_exam.models import Paper
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
    emit(as_json, data, lambda: "\n".join(_score_line(s) for s in data["stations"]))


def _score_line(row: dict) -> str:
    session = f"{row['session']} " if row.get("session") else ""
    return (f"{session}{row['station']:<6} {row['score']:>7} / {row['full_marks']:<7} "
            f"{row['answered']:>4}  {row['submitted_at'] or '-'}")
