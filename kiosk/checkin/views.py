"""Roster, the check-in desk, the two draw ceremonies and badge printing."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask import session as browser_session
from flask_login import current_user
from sqlalchemy import select

from kiosk import clock, permissions, scope, staff
from kiosk.checkin import draw_stages, idcard, session_draw
from kiosk.checkin import roster as contestants
from kiosk.checkin.badges import render_badges
from kiosk.checkin.models import Contestant
from kiosk.checkin.records import record_sheet, session_draw_sheet
from kiosk.checkpoints import checkpoint_for_print
from kiosk.errors import N_, ImportErrors, KioskError, Unauthorized
from kiosk.field import hall_layout
from kiosk.i18n import gettext, lazy_gettext
from kiosk.judge_keys import recipients_for
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.stations.sign_in import issue_badges
from kiosk.web import (
    IMPORT_BODY_LIMIT,
    body_limit,
    chosen_session,
    current_actor,
    db,
    kiosk_instance,
    may,
    nav_item,
    requires,
    translated,
)

bp = Blueprint("checkin", __name__, template_folder="templates")

nav_item("checkin.roster", lambda: str(lazy_gettext("Roster")), order=10)
nav_item("checkin.desk", lambda: str(lazy_gettext("Check-in desk")), order=11)
nav_item("checkin.draw_1", lambda: str(lazy_gettext("First draw")), order=20)
nav_item("checkin.draw_2", lambda: str(lazy_gettext("Second draw")), order=21)
nav_item("checkin.badges", lambda: str(lazy_gettext("Station badges")), order=25)

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")



def _pdf(data: bytes, name: str):
    from io import BytesIO

    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=False,
                     download_name=name, max_age=0)


def _settings():
    return kiosk_instance().settings


def _session_name() -> str:
    """The session this page or paper is about (config.toml's name with one session)."""
    exam_session = chosen_session()
    settings = _settings()
    return str(exam_sessions.label(exam_session, settings)) if exam_session else \
        settings.session_name


def _render(template: str, **context):
    """A page of one session's check-in: it names its session."""
    return render_template(template, session_label=_session_name()
                           if chosen_session() is not None else None, **context)


# ----------------------------------------------------------------------------- roster

@bp.route("/roster", methods=["GET", "POST"])
@requires(permissions.READ_ROSTER, post=permissions.IMPORT_ROSTER)
@body_limit(IMPORT_BODY_LIMIT)
def roster():
    problems: list[str] = []
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash(gettext("Choose a file first."), "error")
        else:
            try:
                imported = contestants.import_roster(db(), upload.read(), upload.filename,
                                                 groups=_settings().groups, actor=current_actor(),
                                                 now=clock.now())
            except ImportErrors as exc:
                problems = [p.render(gettext) for p in exc.problems]
            except KioskError as exc:  # e.g. the session draw is published: the roster is final
                problems = [translated(exc)]
            else:
                flash(gettext("Imported %(n)s contestants.", n=len(imported)), "success")
                return redirect(url_for("checkin.roster"))
    session = db()
    # The roster is the event's: every session's contestants, each with their session.
    with scope.event_wide(session):
        people = contestants.roster(session)
        counts = contestants.counts(session)
    sessions = {es.id: es for es in exam_sessions.defined(session)}
    return render_template("checkin/roster.html", people=people, problems=problems,
                           counts=counts, mask=idcard.mask, sessions=sessions,
                           session_draw=session_draw.current_round(session))


@bp.post("/roster/withdraw")
@requires(permissions.WITHDRAW_CONTESTANT)
def withdraw():
    person = contestants.withdraw(db(), request.form.get("id_number", ""),
                                  request.form.get("reason", ""), actor=current_actor(),
                                  now=clock.now())
    flash(gettext("%(name)s is withdrawn (reason: %(reason)s); kept on the roster.",
                  name=person.name, reason=person.withdrawn_reason), "success")
    return redirect(url_for("checkin.roster"))


# ----------------------------------------------------------------------------- the desk

@bp.get("/checkin")
@requires(permissions.CHECK_IN)
def desk():
    return _render("checkin/desk.html", counts=contestants.counts(db()))


def _person_json(person: Contestant) -> dict:
    return {"id": person.id, "name": person.name, "id_number": idcard.mask(person.id_number),
            "organization": person.organization, "group": person.group,
            "checked_in_at": clock.iso(person.checked_in_at),
            "checked_in_time": clock.local_display(person.checked_in_at, "%H:%M:%S"),
            "photo": url_for("checkin.photo", contestant_id=person.id)
            if _photo_path(person) else None}


@bp.get("/checkin/seat")
@requires(permissions.CHECK_IN)
def seat():
    """查看座位: after the station draw, the contestant's own seat on the hall map, every other
    seat blank and without its code (the desk's screen faces the queue). Typed from the
    station the contestant drew: the desk never links a person to a station."""
    code = request.args.get("station", "")
    layout = item = None
    problem = None
    if code.strip():
        try:
            layout, item = hall_layout.seat_of(db(), code)
        except KioskError as exc:
            problem = translated(exc)
    template = "checkin/_seat.html" if request.args.get("fragment") else "checkin/seat.html"
    return render_template(template, layout=layout, item=item, problem=problem,
                           code=code.strip().upper()[:16]), 404 if problem else 200


@bp.post("/checkin/scan")
@requires(permissions.CHECK_IN)
def scan():
    """A scanned or typed ID checks in at once; a name returns the matches to choose from."""
    body = request.get_json(silent=True) or {}
    query = str(body.get("query", "")).strip()
    contestant_id = body.get("contestant_id")
    if isinstance(contestant_id, int):
        target: int | str = contestant_id
    else:
        matches = contestants.find_contestants(db(), query)
        normalized = idcard.normalize(query)
        exact = [m for m in matches if m.id_number == normalized]
        if not exact:
            if not matches:
                raise KioskError(N_("Nobody on the roster matches %(query)s."),
                                 query=query[:40])
            return jsonify({"matches": [_person_json(m) for m in matches]})
        target = exact[0].id
    result = contestants.check_in(db(), target, staff_id=current_user.id, actor=current_actor(),
                                  now=clock.now())
    counts = contestants.counts(db())
    return jsonify({"person": _person_json(result.contestant), "already": result.already,
                    "by": result.by,
                    "at": clock.local_display(result.at, "%H:%M:%S"),
                    "counts": {"present": counts.present, "total": counts.total}})


@bp.post("/checkin/undo")
@requires(permissions.CHECK_IN)
def undo():
    body = request.get_json(silent=True) or {}
    contestant_id = body.get("contestant_id")
    if not isinstance(contestant_id, int):
        raise KioskError(N_("Which check-in should be undone?"))
    person = contestants.undo_check_in(db(), contestant_id, str(body.get("reason", "")),
                                       actor=current_actor(), now=clock.now())
    return jsonify({"person": _person_json(person)})


@bp.get("/checkin/counts")
@requires(permissions.READ_ROSTER)
def live_counts():
    counts = contestants.counts(db())
    return jsonify({"present": counts.present, "total": counts.total, "absent": counts.absent,
                    "groups": {g: {"present": p, "total": t}
                               for g, (p, t) in counts.by_group.items()}})


@bp.get("/checkin/absent")
@requires(permissions.READ_ROSTER)
def absent_list():
    return _render("checkin/absent.html", people=contestants.absent(db()),
                           counts=contestants.counts(db()), mask=idcard.mask)


@bp.get("/checkin/sheet.pdf")
@requires(permissions.READ_ROSTER)
def checkin_sheet():
    settings = _settings()
    return _pdf(contestants.checkin_sheet_pdf(db(), event_name=settings.event_name,
                                              session_name=_session_name(),
                                              checkpoint=checkpoint_for_print(kiosk_instance()),
                                              font_config=settings.pdf_font), "checkin-sheet.pdf")


def _photo_path(person: Contestant) -> Path | None:
    folder = kiosk_instance().path / "photos"
    for suffix in PHOTO_SUFFIXES:
        candidate = folder / f"{person.id_number}{suffix}"
        if candidate.is_file():
            return candidate
    return None


@bp.get("/checkin/photo/<int:contestant_id>")
@requires(permissions.CHECK_IN)
def photo(contestant_id: int):
    person = db().get(Contestant, contestant_id)
    path = _photo_path(person) if person else None
    if path is None:
        abort(404)
    return send_file(path, max_age=0)


# ----------------------------------------------------------------------------- the draws

def _ceremony(stage: int):
    session = db()
    round_ = draw_stages.current_round(session, stage)
    mapping = None
    if round_ is not None and round_.status in ("drawn", "prepared"):
        # On the screen now: from this moment the result is final (a redraw is co-signed).
        mapping = draw_stages.show_result(session, stage, actor=current_actor(), now=clock.now())
    return _render(
        "checkin/draw.html", stage=stage, round=round_, mapping=mapping,
        history=draw_stages.history(session, stage),
        inputs=draw_stages.stage_inputs(session, stage),
        pool=draw_stages.stage_pool(session, stage),
        pending=draw_stages.pending_inputs(session, stage) if round_ and round_.status in
        ("drawn", "prepared", "sealed") else [],
        recipients=recipients_for(session, f"crypt{stage}"),
        may_run=may(permissions.RUN_DRAW[stage]),
        # A refused redraw's reason and supervisor, typed once, shown once (never the password).
        redraw_form=browser_session.pop(f"redraw_form_{stage}", None),
        mask=idcard.mask)


@bp.get("/draw/1")
@requires(permissions.WATCH_DRAW_1)
def draw_1():
    return _ceremony(1)


@bp.get("/draw/2")
@requires(permissions.WATCH_DRAW_2)
def draw_2():
    return _ceremony(2)


def _act(stage: int, action: str):
    """One ceremony step. Entropy comes from the judge's or a supervisor's screen; every other
    step only from the stage's judge (declared on the routes below)."""
    settings = _settings()
    session = db()
    try:
        if action == "commit":
            redraw = _cosigned_redraw(session)
            draw_stages.commit(session, stage, actor=current_actor(), now=clock.now(),
                               redraw=redraw)
            if redraw is not None:
                flash(gettext("Redrawn: a new commitment is ready (reason: %(reason)s; co-signed "
                              "by supervisor %(who)s).", reason=redraw.reason,
                              who=redraw.cosigner), "success")
        elif action == "entropy":
            draw_stages.draw(session, stage, request.form.get("entropy", ""),
                             commitment=request.form.get("commitment", ""), actor=current_actor(),
                             now=clock.now())
        elif action == "late":
            value = draw_stages.assign_late(session, stage, request.form.get("who", ""),
                                      lot=request.form.get("lot") or None, actor=current_actor(),
                                      now=clock.now(), sealed_dir=kiosk_instance().sealed_dir)
            flash(gettext("Assigned %(value)s.", value=value), "success")
        elif action == "lots":
            lots = {key[4:]: value for key, value in request.form.items()
                    if key.startswith("lot:")}
            draw_stages.draw_by_lots(session, stage, lots, actor=current_actor(), now=clock.now())
        elif action == "prepare":
            draw_stages.prepare_seal(session, stage, event_name=settings.event_name,
                                     actor=current_actor(), now=clock.now())
        elif action == "seal":
            if request.form.get("confirm") != "yes":
                raise KioskError(N_("Tick the box to confirm that the record sheets are printed "
                                    "and signed."))
            draw_stages.seal(session, stage, event_name=settings.event_name, actor=current_actor(),
                             now=clock.now())
            draw_stages.export_sealed(session, stage, kiosk_instance().sealed_dir)
            flash(gettext("Sealed. The pairs are erased from the server."), "success")
        else:
            abort(400)
    except ImportErrors as exc:
        for problem in exc.problems:
            flash(problem.render(gettext), "error")
    except KioskError as exc:
        flash(translated(exc), "error")
        if action == "commit" and request.form.get("reason", "").strip():
            browser_session[f"redraw_form_{stage}"] = {
                "reason": request.form["reason"].strip()[:500],
                "supervisor": request.form.get("supervisor", "").strip()[:100]}
    return redirect(url_for(f"checkin.draw_{stage}"))


def _cosigned_redraw(session) -> draw_stages.Redraw | None:
    """The supervisor's co-signature of a redraw, when the form carries one. Checked and
    throttled like a sign-in; the signed-in judge's account is the client's device, so a flood
    from the hall cannot keep the supervisor from co-signing here."""
    username = request.form.get("supervisor", "").strip()
    reason = request.form.get("reason", "").strip()
    if not username or not reason:  # refused with what is missing; no password spent on it
        return None
    try:
        supervisor = staff.cosign(session, username, request.form.get("password", ""),
                                  role="supervisor", address=request.remote_addr or "",
                                  device=f"staff:{current_user.username}", now=clock.now(),
                                  limit_per_minute=_settings().login_attempts_per_minute)
    except Unauthorized:  # the judge is signed in: the password that was wrong is the other one
        raise Unauthorized(N_("The supervisor's username or password is wrong; the reason is "
                              "kept, type the supervisor's password again.")) from None
    return draw_stages.Redraw(cosigner=supervisor.username, reason=reason)


@bp.post("/draw/1/act")
@requires(permissions.RUN_DRAW_1)
def act_1():
    return _act(1, request.form.get("action", ""))


@bp.post("/draw/2/act")
@requires(permissions.RUN_DRAW_2)
def act_2():
    return _act(2, request.form.get("action", ""))


@bp.post("/draw/1/entropy")
@requires(permissions.ADD_ENTROPY_1)
def entropy_1():
    return _act(1, "entropy")


@bp.post("/draw/2/entropy")
@requires(permissions.ADD_ENTROPY_2)
def entropy_2():
    return _act(2, "entropy")


def _record(stage: int):
    settings = _settings()
    kind = "station" if stage == 2 and request.args.get("kind") == "station" else stage
    mapping = draw_stages.show_result(db(), stage, actor=current_actor(), now=clock.now())
    data = record_sheet(mapping, kind=kind, event_name=settings.event_name,
                        session_name=_session_name(),
                        checkpoint=checkpoint_for_print(kiosk_instance()),
                        font_config=settings.pdf_font)
    return _pdf(data, f"draw-{stage}-{kind}.pdf")


@bp.get("/draw/1/record.pdf")
@requires(permissions.WATCH_DRAW_1)
def record_1():
    return _record(1)


@bp.get("/draw/2/record.pdf")
@requires(permissions.WATCH_DRAW_2)
def record_2():
    return _record(2)


# ----------------------------------------------------------------------------- badges

@bp.route("/badges", methods=["GET", "POST"])
@requires(permissions.PRINT_BADGES)
def badges():
    session = db()
    stations = list(session.scalars(select(Station).order_by(Station.code)))
    if request.method == "POST":
        chosen_codes = set(request.form.getlist("station"))
        chosen = [s for s in stations if s.code in chosen_codes]
        if not chosen:
            flash(gettext("Choose at least one station."), "error")
            return redirect(url_for("checkin.badges"))
        instance = kiosk_instance()
        issued = issue_badges(session, chosen, badge_key=instance.badge_key(),
                              actor=current_actor(), now=clock.now())
        settings = _settings()
        data = render_badges(issued, event_name=settings.event_name,
                             session_name=_session_name(), font_config=settings.pdf_font)
        return _pdf(data, "badges.pdf")
    return _render("checkin/badges.html", stations=stations)


# ----------------------------------------------------------------------------- the session draw

@bp.get("/sessions/draw")
@requires(permissions.WATCH_SESSION_DRAW)
def session_draw_page():
    session = db()
    round_ = session_draw.current_round(session)
    result = None
    if round_ is not None and round_.status == "drawn":
        # On the screen at the leaders' meeting: published, and final from now on.
        result = session_draw.show_result(session, actor=current_actor(), now=clock.now())
    sessions = exam_sessions.defined(session)
    return render_template("checkin/session_draw.html", round=round_, result=result,
                           history=session_draw.history(session), sessions=sessions,
                           capacity={s.id: exam_sessions.capacity(session, s)
                                     for s in sessions},
                           names={s.code: s.name or s.code for s in sessions},
                           may_run=may(permissions.RUN_SESSION_DRAW), mask=idcard.mask)


@bp.post("/sessions/draw/act")
@requires(permissions.RUN_SESSION_DRAW)
def session_draw_act():
    session = db()
    action = request.form.get("action", "")
    try:
        if action == "commit":
            session_draw.commit(session, actor=current_actor(), now=clock.now(),
                                reason=request.form.get("reason", ""))
        elif action == "entropy":
            session_draw.draw(session, request.form.get("entropy", ""),
                              commitment=request.form.get("commitment", ""),
                              actor=current_actor(), now=clock.now())
        else:
            abort(400)
    except KioskError as exc:
        flash(translated(exc), "error")
    return redirect(url_for("checkin.session_draw_page"))


@bp.get("/sessions/draw/record.pdf")
@requires(permissions.WATCH_SESSION_DRAW)
def session_draw_record():
    settings = _settings()
    result = session_draw.show_result(db(), actor=current_actor(), now=clock.now())
    return _pdf(session_draw_sheet(result, event_name=settings.event_name,
                                   checkpoint=checkpoint_for_print(kiosk_instance()),
                                   font_config=settings.pdf_font), "session-draw.pdf")
