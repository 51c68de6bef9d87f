"""Scoring pages: score entry (twice), differences, deductions, the review, the lock, the
unsealing ceremony and the final results. Names appear only on the last, after the unsealing.

Sessions (场次): scoring is the event's (one review sample, one lock, one ranking), so these
pages look across every session whatever the header's switch says (`_event`), and name each
station by its session: a 场次 column on the score entry and the overview, "上午场 A01"
elsewhere; forms send a station as its seat (`AM/A01`, `results.seats`). The unsealing page
alone is about the session chosen in the header: each session's seals are its own.
"""

from __future__ import annotations

import json
import statistics
from contextlib import nullcontext
from decimal import Decimal
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import func, select

from kiosk import charts, clock, numbers, permissions, scope, staff
from kiosk.checkpoints import checkpoint_for_print
from kiosk.crypto import parse_identities
from kiosk.errors import ImportErrors, KioskError
from kiosk.i18n import gettext, lazy_gettext
from kiosk.results import (
    final,
    mark_entry,
    review,
    seats,
    stages,
    submission,
    tasks,
    totals,
    unsealing,
)
from kiosk.results.deductions import add_deduction, list_deductions, withdraw_deduction
from kiosk.stations import exam_sessions
from kiosk.theory_exam import paper_fallback
from kiosk.theory_exam.models import Paper
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

bp = Blueprint("results", __name__, url_prefix="/results", template_folder="templates")

nav_item("results.overview", lambda: str(lazy_gettext("Scoring")), order=60)
nav_item("results.entry_index", lambda: str(lazy_gettext("Score entry")), order=60,
         shown_to=permissions.KEEP_SCORES)
nav_item("results.unseal", lambda: str(lazy_gettext("Unsealing")), order=61)
nav_item("results.final_page", lambda: str(lazy_gettext("Final results")), order=62)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REVIEW_LABELS = {"pending": lazy_gettext("to review"), "confirmed": lazy_gettext("confirmed"),
                 "error": lazy_gettext("error reported"), "corrected": lazy_gettext("corrected")}
SAMPLE_REASONS = {"top": lazy_gettext("top 30%"), "random": lazy_gettext("random 15%"),
                  "all": lazy_gettext("full review"), "chief": lazy_gettext("chief judge")}


@bp.context_processor
def labels() -> dict:
    return {"review_labels": REVIEW_LABELS, "sample_reasons": SAMPLE_REASONS,
            "session_labels": _session_labels, "seat_label": _seat_label,
            "seat_session": _seat_session, "seat_station": lambda seat: seats.split(seat)[1]}


def _session_labels() -> dict[str, str]:
    """session code → its label when the event has several sessions (a 场次 column); {}."""
    if "results_sessions" not in g:
        session = db()
        g.results_sessions = seats.session_labels(session, _settings()) \
            if seats.several(session) else {}
    return g.results_sessions


def _seat_session(seat: str) -> str:
    code = seats.split(seat)[0]
    return _session_labels().get(code, code)


def _seat_label(seat: str) -> str:
    """What people read for a seat: "上午场 A01" in an event of sessions, else "A01"."""
    session_code, code = seats.split(seat)
    return f"{_session_labels().get(session_code, session_code)} {code}" if session_code \
        else code


def _event():
    """The request's database session, looking across every session: scoring is the
    event's, whatever the header's switch says (the switch is not shown on these pages)."""
    session = db()
    scope.use(session, None)
    return session


def _settings():
    return kiosk_instance().settings


def _weight() -> Decimal:
    return Decimal(str(_settings().theory_weight))


def _full() -> Decimal:
    """The practical's full marks: the tasks' sum once set (results.tasks), else config's."""
    return tasks.practical_full(db(), Decimal(_settings().practical_full_marks))


def _problems(exc: KioskError) -> list[str]:
    return [translated(exc), *(p.render(gettext) for p in getattr(exc, "problems", ()))]


def _typed_mark() -> Decimal:
    """The form's practical mark: 0 to full marks, two decimals at most."""
    text = request.form.get("mark", "")
    mark = mark_entry.parse_mark(text)
    if mark is None or not Decimal(0) <= mark <= _full():
        raise KioskError(gettext("%(value)s is not a mark (two decimals at most)", value=text))
    return mark


def _say_what_was_stored(typed: dict[str, str]) -> None:
    """A mark typed in full-width forms ("８０") is stored as plain digits: say so, so the
    scorekeeper sees exactly what was kept (kiosk/numbers.py)."""
    for station, text in typed.items():
        if text.strip() and numbers.normalised(text) != text.strip():
            flash(gettext("%(station)s: you typed %(typed)s, stored as %(stored)s.",
                          station=station, typed=text.strip(),
                          stored=numbers.normalised(text)), "info")


def _flash_error(exc: KioskError) -> None:
    for line in _problems(exc):
        flash(line, "error")


def _task_columns(session, current) -> list[tuple[str, str]]:
    """(task, heading) of the tasks entered: the timetable's practical parts first, in order."""
    seen = {task for r in current for task in r.tasks}
    headings = tasks.labels(session)
    return [(task, headings.get(task, task)) for task in tasks.order(session, seen)
            if task in seen]


@bp.get("/")
@requires(permissions.REVIEW_SCORES)
def overview():
    now = clock.now()
    session = _event()
    stage = stages.stage(session)
    current = totals.results(session, theory_weight=_weight(), now=now)
    return render_template(
        "results/overview.html", stage=stage, results=current,
        task_columns=_task_columns(session, current),
        with_theory=any(totals.has_theory(totals.day_parts(session))
                        for _s in seats.each_session(session)),
        entries={n: mark_entry.entry_marks(session, n) for n in (1, 2)},
        reviewed=review.statuses(session),
        differences=len(mark_entry.differences(session)),
        progress=review.progress(session),
        lock=(totals.locked_results(session) or (None,))[0],
        opened=_any_opened(session), paper_seats=paper_fallback.paper_seats(session),
        lock_problems=[p.render(gettext) for p in submission.lock_problems(
            session, current)] if stage == "review" else [],
        distribution=_distribution([(None, [r.theory for r in current],
                                     [r.total for r in current])]))


def _any_opened(session) -> bool:
    """Some layer of some session is open (then the lock stays)."""
    return any(unsealing.opened(session) for _s in seats.each_session(session))


@bp.get("/entry")
@requires(permissions.ENTER_MARKS)
def entry_index():
    return render_template("results/entry_index.html")


@bp.route("/entry/<int:entry>", methods=["GET", "POST"])
@requires(permissions.ENTER_MARKS)
@body_limit(IMPORT_BODY_LIMIT)
def entry(entry: int):
    if entry not in (1, 2):
        abort(404)
    session = _event()
    problems: list[str] = []  # of the imported file
    typed_problems: list[str] = []  # of the marks typed on the page
    if request.method == "POST":
        upload = request.files.get("file")
        from_file = upload is not None and bool(upload.filename)
        try:
            if from_file:
                count = mark_entry.import_marks(session, upload.read(), upload.filename,
                                                entry=entry, full_marks=_full(),
                                                actor=current_actor(), now=clock.now())
            else:
                typed = {key[5:]: value for key, value in request.form.items()
                         if key.startswith("mark:")}
                count = mark_entry.enter_marks(session, typed, entry=entry, full_marks=_full(),
                                               actor=current_actor(), now=clock.now())
                _say_what_was_stored(typed)
        except ImportErrors as exc:
            found = [p.render(gettext) for p in exc.problems]
            if from_file:
                problems = found
            else:
                typed_problems = found
        except KioskError as exc:
            _flash_error(exc)
        else:
            flash(gettext("Saved %(n)s marks in entry %(entry)s.", n=count, entry=entry),
                  "success")
            return redirect(url_for("results.entry", entry=entry))
    codes = list(totals.scored_station_ids(session).values())  # seats
    # Whoever typed the other entry sees this one read-only, with the reason, before typing.
    not_theirs = (gettext(mark_entry.OTHER_ENTRY)
                  if mark_entry.entered_the_other(session, entry, current_user.username) else None)
    return render_template("results/entry.html", entry=entry, codes=codes,
                           marks=mark_entry.entry_marks(session, entry), problems=problems,
                           typed_problems=typed_problems, not_theirs=not_theirs,
                           stage=stages.stage(session), full=_full(),
                           typed=request.form if typed_problems else {})


@bp.route("/differences", methods=["GET", "POST"])
@requires(permissions.REVIEW_SCORES, post=permissions.DECIDE_SCORES)
def differences():
    session = _event()
    if request.method == "POST":
        try:
            mark_entry.resolve(session, request.form.get("station", ""), _typed_mark(),
                               request.form.get("reason", ""), task=request.form.get("task", ""),
                               actor=current_actor(), now=clock.now())
        except KioskError as exc:
            _flash_error(exc)
        else:
            flash(gettext("Resolved."), "success")
            _say_what_was_stored({_seat_label(request.form.get("station", "")):
                                  request.form.get("mark", "")})
        return redirect(url_for("results.differences"))
    return render_template("results/differences.html",
                           differences=mark_entry.differences(session),
                           stage=stages.stage(session))


@bp.route("/deductions", methods=["GET", "POST"])
@requires(permissions.REVIEW_SCORES, post=permissions.DECIDE_SCORES)
def deductions():
    session = _event()
    if request.method == "POST":
        form = request.form
        withdraw = form.get("withdraw", type=int)
        try:
            if withdraw is not None:
                withdraw_deduction(session, withdraw, form.get("reason", ""),
                                          actor=current_actor(), now=clock.now())
                flash(gettext("Withdrawn."), "success")
            else:
                add_deduction(session, form.get("station", ""), form.get("amount", ""),
                                     form.get("reason", ""), form.get("approved_by", ""),
                                     actor=current_actor(), now=clock.now())
                flash(gettext("Deduction recorded."), "success")
        except KioskError as exc:
            _flash_error(exc)
        return redirect(url_for("results.deductions"))
    return render_template("results/deductions.html",
                           deductions=list_deductions(session),
                           codes=list(totals.scored_station_ids(session).values()),
                           stage=stages.stage(session))


@bp.route("/review", methods=["GET", "POST"])
@requires(permissions.REVIEW_SCORES)
def review_page():
    session = _event()  # one sample over every session's stations
    if request.method == "POST":
        action, form = request.form.get("action"), request.form
        try:
            if action == "draw" and may(permissions.DECIDE_SCORES):
                review.draw_sample(session, theory_weight=_weight(), actor=current_actor(),
                                   now=clock.now())
            elif action in ("confirm", "error"):
                mark = _typed_mark() if action == "error" else None
                review.record_outcome(session, form.get("station", ""),
                                      correct=action == "confirm", mark=mark,
                                      note=form.get("note", ""), actor=current_actor(),
                                      now=clock.now())
            elif action == "correct" and may(permissions.DECIDE_SCORES):
                review.correct(session, form.get("station", ""), _typed_mark(),
                               form.get("reason", ""), actor=current_actor(), now=clock.now())
            else:
                abort(403)
        except KioskError as exc:
            _flash_error(exc)
        else:
            if action in ("error", "correct"):
                _say_what_was_stored({_seat_label(form.get("station", "")):
                                      form.get("mark", "")})
        return redirect(url_for("results.review_page"))
    current = {r.seat: r for r in totals.results(session, theory_weight=_weight(),
                                                  now=clock.now())}
    return render_template("results/review.html", items=review.items(session),
                           task_columns=_task_columns(session, current.values()),
                           progress=review.progress(session), results=current,
                           stage=stages.stage(session))


@bp.post("/lock")
@requires(permissions.DECIDE_SCORES)
def lock():
    session = _event()  # one lock for the event
    try:
        if request.form.get("action") == "unlock":
            submission.unlock(session, request.form.get("reason", ""), actor=current_actor(),
                              now=clock.now())
            flash(gettext("Unlocked."), "success")
        else:
            row = submission.lock(session, theory_weight=_weight(), actor=current_actor(),
                                  now=clock.now())
            flash(gettext("Results locked. SHA-256 %(sha)s", sha=row.sha256), "success")
    except KioskError as exc:
        _flash_error(exc)
    return redirect(url_for("results.overview"))


@bp.route("/unseal", methods=["GET", "POST"])
@requires(permissions.UNSEAL)
@body_limit(IMPORT_BODY_LIMIT)
def unseal():
    session = db()
    if request.method == "POST":
        stage = request.form.get("stage", type=int)
        if stage not in (1, 2):
            abort(400)
        upload = request.files.get("identity")
        text = (upload.read().decode("utf-8", "replace") if upload and upload.filename
                else request.form.get("identity_text", ""))
        settings = _settings()
        try:
            # Throttled like a sign-in: the supervisor's password is asked for here. Only
            # signed-in staff reach this page, so their account is the client's device: a
            # flood from the hall cannot keep the supervisor from co-signing here.
            supervisor = staff.cosign(session, request.form.get("supervisor", ""),
                                      request.form.get("password", ""), role="supervisor",
                                      address=request.remote_addr or "",
                                      device=f"staff:{current_user.username}", now=clock.now(),
                                      limit_per_minute=settings.login_attempts_per_minute)
            row = unsealing.open_layer(session, stage, parse_identities(text),
                                       actor=current_actor(), supervisor=supervisor.username,
                                       now=clock.now(), actor_role=current_user.role)
        except KioskError as exc:
            _flash_error(exc)
        else:
            if row.verified:
                flash(gettext("Stage %(stage)s opened and verified against its commitment.",
                              stage=stage), "success")
            else:
                flash(gettext("Stage %(stage)s opened but NOT verified: %(p)s", stage=stage,
                              p="; ".join(json.loads(row.problems))), "error")
        return redirect(url_for("results.unseal"))
    opened = unsealing.opened(session)
    links = unsealing.links(session) if opened else {}
    return render_template("results/unseal.html", opened=opened, links=links,
                           next_stage=unsealing.next_stage(session),
                           locked=stages.stage(session) == "locked",
                           problems={s: json.loads(r.problems or "[]")
                                     for s, r in opened.items()},
                           every_session=_unsealing_by_session(session),
                           this_session=_session_labels().get(
                               exam_sessions.chosen(session).code, ""))


def _unsealing_by_session(session) -> list[tuple[str, int]]:
    """(label, layers open) of each session, in an event of several (the page is one
    session's; the final results wait for all of them)."""
    labels = _session_labels()
    if not labels:
        return []
    with scope.event_wide(session):
        return [(labels.get(s.code, s.code), len(unsealing.opened(session)))
                for s in seats.each_session(session)]


def _final():
    try:
        return final.final_results(_event(), _session_labels())
    except KioskError as exc:
        _flash_error(exc)
        return None


@bp.get("/final")
@requires(permissions.READ_FINAL_RESULTS)
def final_page():
    result = _final()
    distribution = _distribution(
        [(group, [r.theory_raw for r in rows], [r.total for r in rows])
         for group, rows in result.groups]) if result else None
    return render_template("results/final.html", result=result, distribution=distribution)


def _distribution(groups: list[tuple[str | None, list, list]]) -> dict | None:
    """The theory and total scores' histograms per group, the same bins for every group
    (kiosk/charts.py, cached by the figures), with each group's summary for the page's text;
    the theory's alone while the practical is being marked; None while no station has either."""
    named = [(group or gettext("All stations"),
              [float(v) for v in theory if v is not None],
              [float(v) for v in total if v is not None]) for group, theory, total in groups]
    if not any(theory or total for _g, theory, total in named):
        return None
    theory_full = db().scalar(select(func.max(Paper.full_marks)))
    columns = []
    if any(theory for _g, theory, _t in named):
        columns.append((gettext("Theory score"), charts.distribution(
            [(g, theory) for g, theory, _t in named],
            float(theory_full) if theory_full else None), 0))
    if any(total for _g, _t, total in named):
        total_full = float(_full() + (_weight() if columns else 0))
        columns.append((gettext("Total"), charts.distribution(
            [(g, total) for g, _t, total in named], total_full), 1))
    with nullcontext() if charts.draws_chinese() else force_locale("en"):
        chart = charts.score_distribution(
            [(name, dist) for name, dist, _i in columns],
            {"title": gettext("Score distribution per group (the same bins for every group)"),
             "x": gettext("Score"), "y": gettext("Contestants"),
             "n": gettext("n = %(n)s", n="%(n)s")})
    summaries = [{"name": name, "dist": dist, "groups": [
        _summary(group, values[index]) for group, *values in named]}
        for name, dist, index in columns]
    return {"chart": chart, "columns": summaries, "groups": [g for g, _t, _o in named]}


def _summary(group: str, values: list[float]) -> dict:
    if not values:
        return {"group": group, "n": 0}
    return {"group": group, "n": len(values), "median": statistics.median(values),
            "mean": statistics.fmean(values), "low": min(values), "high": max(values)}


@bp.get("/final.pdf")
@requires(permissions.READ_FINAL_RESULTS)
def final_pdf():
    result = _final()
    if result is None:
        return redirect(url_for("results.final_page"))
    settings = _settings()
    data = final.results_pdf(result, event_name=settings.event_name,
                             session_name=settings.session_name, now=clock.now(),
                             theory_weight=_weight(), practical_full=_full(),
                             checkpoint=checkpoint_for_print(kiosk_instance()),
                             font_config=settings.pdf_font)
    name = "station-results.pdf" if result.sealed else "final-results.pdf"
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=name)


@bp.get("/final.xlsx")
@requires(permissions.READ_FINAL_RESULTS)
def final_xlsx():
    result = _final()
    if result is None:
        return redirect(url_for("results.final_page"))
    data = final.results_xlsx(result, event_name=_settings().event_name)
    return send_file(BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name="results.xlsx")

