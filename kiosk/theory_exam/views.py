"""The chief judge's pages of the theory exam: bank, paper spec, results, item statistics; the
paper fallback's pages (the stations on paper, printing, switching, the two entries of each
answer sheet and their comparison).

Sessions (场次): the bank and the paper spec are the event's (setting the spec builds every
session's papers); the results and the item statistics are of the session chosen in the
header (each session's theory runs on its own clock)."""

from __future__ import annotations

import hashlib
from contextlib import nullcontext
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import func, select

from kiosk import charts, clock, permissions
from kiosk.errors import ImportErrors, KioskError
from kiosk.i18n import gettext, lazy_gettext
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.theory_exam import exam, paper_fallback, paper_print, papers, question_bank
from kiosk.theory_exam.models import Paper, Question
from kiosk.theory_exam.score_sheets import scores_xlsx
from kiosk.web import (
    IMPORT_BODY_LIMIT,
    body_limit,
    current_actor,
    db,
    kiosk_instance,
    may,
    nav_item,
    requires,
    translated,
)

bp = Blueprint("theory", __name__, template_folder="templates")

nav_item("theory.bank", lambda: str(lazy_gettext("Question bank")), order=30)
nav_item("theory.paper", lambda: str(lazy_gettext("Theory paper")), order=31)
nav_item("theory.results", lambda: str(lazy_gettext("Theory results")), order=32)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



@bp.route("/bank", methods=["GET", "POST"])
@requires(permissions.READ_THEORY)
@body_limit(IMPORT_BODY_LIMIT)
def bank():
    problems: list[str] = []
    warnings: list[str] = []
    if request.method == "POST":
        if not may(permissions.PREPARE_THEORY):
            return redirect(url_for("theory.bank"))
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(gettext("Choose a file first."), "error")
        else:
            try:
                result = question_bank.import_bank(db(), upload.read(), upload.filename,
                                                   actor=current_actor(), now=clock.now())
            except ImportErrors as exc:
                problems = [p.render(gettext) for p in exc.problems]
            else:
                warnings = [w.render(gettext) for w in result.warnings]
                flash(gettext("Imported %(n)s questions.", n=len(result.questions)), "success")
    args = request.args
    questions = question_bank.search_bank(db(), text=args.get("q", ""), qtype=args.get("type", ""),
                                          category=args.get("category", ""))
    total = db().scalar(select(func.count()).select_from(Question)) or 0
    return render_template("theory_exam/bank.html", questions=questions, problems=problems,
                           warnings=warnings, args=args, categories=question_bank.categories(db()),
                           counts=question_bank.bank_counts(db()), total=total)


@bp.post("/bank/<int:question_id>/toggle")
@requires(permissions.PREPARE_THEORY)
def toggle(question_id: int):
    question = db().get(Question, question_id)
    if question is not None:
        question_bank.set_enabled(db(), question_id, not question.enabled, actor=current_actor(),
                                  now=clock.now())
    return redirect(request.referrer or url_for("theory.bank"))


@bp.get("/bank/export.xlsx")
@requires(permissions.READ_THEORY)
def export():
    return send_file(BytesIO(question_bank.export_bank_xlsx(db())), mimetype=XLSX,
                     as_attachment=True, download_name="question-bank.xlsx")


def _categories(text: str) -> dict | None:
    import json

    text = (text or "").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise KioskError(gettext("The per-category field is not valid JSON.")) from exc
    papers.check_per_category(value)  # the shape's one home: before the bank is read
    return value


def _count(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


@bp.route("/paper", methods=["GET", "POST"])
@requires(permissions.READ_THEORY)
def paper():
    if request.method == "POST" and may(permissions.PREPARE_THEORY):
        form = request.form
        try:
            wanted = papers.SpecInput(
                single=_count(form.get("single", "")), tf=_count(form.get("tf", "")),
                per_category=_categories(form.get("per_category", "")),
                single_points=papers.parse_points(form.get("single_points", "")),
                tf_points=papers.parse_points(form.get("tf_points", "")),
                same_questions=bool(form.get("same_questions")),
                shuffle_questions=bool(form.get("shuffle_questions")),
                shuffle_options=bool(form.get("shuffle_options")),
                show_score=bool(form.get("show_score")))
            papers.set_spec(db(), wanted, actor=current_actor(), now=clock.now())
            flash(gettext("The papers are built."), "success")
        except KioskError as exc:
            flash(translated(exc), "error")
        return redirect(url_for("theory.paper"))
    spec = papers.get_spec(db())
    built, full = db().execute(select(func.count(), func.max(Paper.full_marks))).one()
    sample = db().scalar(select(Paper).limit(1))
    return render_template("theory_exam/paper.html", spec=spec, built=built, full=full,
                           counts=question_bank.bank_counts(db()), sample=sample,
                           minutes=kiosk_instance().settings.theory_minutes)


@bp.get("/exam/results")
@requires(permissions.READ_THEORY)
def results():
    scores = exam.grade_all(db(), now=clock.now())
    statistics = exam.item_statistics(db())
    stems = dict(db().execute(select(Question.id, Question.stem)).all())
    return render_template("theory_exam/results.html", scores=scores, statistics=statistics,
                           stems=stems, item_charts=_item_charts(statistics))


def _item_charts(statistics: list[dict]) -> dict[str, charts.Chart] | None:
    """The item statistics as two pictures (kiosk/charts.py, cached by their figures), in
    the page's language (English where no CJK font is found); None without answers."""
    items = charts.items_from_statistics(statistics)
    if not items:
        return None
    with nullcontext() if charts.draws_chinese() else force_locale("en"):
        question = gettext("Q%(q)s", q="%(q)s")
        scatter = charts.item_scatter(items, {
            "title": gettext("Facility and discrimination per question"),
            "x": gettext("Facility (share of correct answers)"),
            "y": gettext("Discrimination (best 27% minus weakest 27%)"),
            "flag": gettext("Below 0.2: deserves a look"), "question": question})
        options = charts.item_options(items, {
            "title": gettext("Options chosen per question (correct answer green, ✓)"),
            "x": gettext("Share of papers"), "none": gettext("no answer"),
            "question": question, "correct": gettext("correct answer")},
            option_names={"T": gettext("True"), "F": gettext("False")})
    return {"scatter": scatter, "options": options}


@bp.get("/exam/results.xlsx")
@requires(permissions.READ_THEORY)
def results_xlsx():
    scores = exam.grade_all(db(), now=clock.now())
    settings = kiosk_instance().settings
    labels = {s.code: str(exam_sessions.label(s, settings)) for s in exam_sessions.every(db())}
    data = scores_xlsx(scores, settings.event_name, labels)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name="theory-scores.xlsx")


# ----------------------------------------------------------------------------- the paper fallback

# Not in the header: a fallback page, reached from the theory paper, exam control and scoring
# pages, so the header stays one line for every role on a day that never needs it.


@bp.get("/exam/on-paper")
@requires(permissions.READ_ANSWER_SHEETS)
def on_paper():
    """The stations on paper, how far their sheets are typed; printing and switching."""
    session = db()
    sheets = paper_fallback.paper_stations(session)
    taken = {s.station for s in sheets}
    codes = [code for code in session.scalars(
        select(Station.code).join(Paper, Paper.station_id == Station.id).order_by(Station.code))
             if code not in taken]
    return render_template("theory_exam/on_paper.html", sheets=sheets, codes=codes,
                           paper_count=len(codes) + len(taken))


@bp.post("/exam/on-paper/switch")
@requires(permissions.SWITCH_TO_PAPER)
def switch_to_paper():
    try:
        paper_fallback.switch_to_paper(db(), request.form.get("station", ""),
                                       request.form.get("reason", ""), actor=current_actor(),
                                       now=clock.now())
        flash(gettext("%(station)s answers on paper now.",
                      station=request.form.get("station", "").upper()), "success")
    except KioskError as exc:
        flash(translated(exc), "error")
    return redirect(url_for("theory.on_paper"))


@bp.post("/exam/on-paper/papers.pdf")
@requires(permissions.PRINT_PAPERS)
def print_papers():
    """Every paper of the session in view (the one the hall serves, unless another is chosen
    in the header), or the stations typed."""
    wanted = request.form.get("stations", "").strip()
    try:
        printed = paper_fallback.printed_papers(db(), wanted.split(",") if wanted else None)
    except KioskError as exc:
        flash(translated(exc), "error")
        return redirect(url_for("theory.on_paper"))
    settings = kiosk_instance().settings
    data = paper_print.render_papers(printed, event_name=settings.event_name,
                                     font_config=settings.pdf_font)
    paper_fallback.record_printing(db(), printed, hashlib.sha256(data).hexdigest(),
                                   actor=current_actor(), now=clock.now())
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=False,
                     download_name="theory-papers.pdf", max_age=0)


@bp.route("/exam/on-paper/<code>/entry/<int:entry>", methods=["GET", "POST"])
@requires(permissions.ENTER_ANSWER_SHEETS)
def sheet_entry(code: str, entry: int):
    if entry not in (1, 2):
        abort(404)
    session = db()
    problems: list[str] = []
    try:
        current = paper_fallback.sheet(session, code)
    except KioskError as exc:
        flash(translated(exc), "error")
        return redirect(url_for("theory.on_paper"))
    if request.method == "POST":
        typed = {int(key[2:]): value for key, value in request.form.items()
                 if key.startswith("q:") and key[2:].isdigit()}
        try:
            answered = paper_fallback.enter_sheet(session, code, typed, entry=entry,
                                                  actor=current_actor(), now=clock.now())
        except ImportErrors as exc:
            problems = [p.render(gettext) for p in exc.problems]
        except KioskError as exc:
            flash(translated(exc), "error")
        else:
            flash(gettext("Entry %(entry)s of %(station)s saved: %(n)s answers.", entry=entry,
                          station=current.station, n=answered), "success")
            return redirect(url_for("theory.on_paper"))
    not_theirs = gettext(paper_fallback.OTHER_ENTRY) if paper_fallback.typed_the_other(
        session, current.station_id, entry, current_user.username) else None
    # A judge sees only what they typed themselves: the two entries stay independent.
    shown = current.entered_by.get(entry) == current_user.username or may(permissions.READ_THEORY)
    saved = {q.question.number: (q.first if entry == 1 else q.second) or ""
             for q in current.questions} if shown else {}
    return render_template("theory_exam/sheet_entry.html", sheet=current, entry=entry,
                           problems=problems, not_theirs=not_theirs,
                           values=request.form if problems else saved)


@bp.route("/exam/on-paper/<code>", methods=["GET", "POST"])
@requires(permissions.READ_THEORY, post=permissions.RESOLVE_ANSWER_SHEETS)
def sheet_compare(code: str):
    session = db()
    if request.method == "POST":
        try:
            number = int(request.form.get("question", "0"))
            paper_fallback.resolve(session, code, number, request.form.get("mark", ""),
                                   request.form.get("reason", ""), actor=current_actor(),
                                   now=clock.now())
            flash(gettext("Question %(number)s decided.", number=number), "success")
        except (KioskError, ValueError) as exc:
            flash(translated(exc) if isinstance(exc, KioskError) else str(exc), "error")
        return redirect(url_for("theory.sheet_compare", code=code))
    try:
        current = paper_fallback.sheet(session, code)
    except KioskError as exc:
        flash(translated(exc), "error")
        return redirect(url_for("theory.on_paper"))
    return render_template("theory_exam/sheet_compare.html", sheet=current)
