"""The workstation's page, the chief judge's phase control, the field judges' dashboard and the
hall clock."""

from __future__ import annotations

import hmac
from contextlib import nullcontext
from datetime import datetime
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import force_locale
from markupsafe import Markup

from kiosk import charts, clock, numbers, permissions
from kiosk.errors import ImportErrors, KioskError
from kiosk.field import (
    announcements,
    hall_layout,
    hall_map_print,
    incidents,
    progress,
    sessions_shown,
    telemetry,
)
from kiosk.field import dashboard as board
from kiosk.field.control import start_phase
from kiosk.i18n import gettext, lazy_gettext
from kiosk.stations import binding, exam_sessions, phases, timetable
from kiosk.stations.models import Station
from kiosk.web import (
    chosen_session,
    current_actor,
    db,
    kiosk_instance,
    nav_item,
    public,
    requires,
    translated,
)

bp = Blueprint("kiosk", __name__, template_folder="templates")

nav_item("kiosk.control", lambda: str(lazy_gettext("Exam control")), order=40)
nav_item("kiosk.dashboard", lambda: str(lazy_gettext("Stations")), order=41)
nav_item("kiosk.timetable_page", lambda: str(lazy_gettext("Timetable")), order=39)


@bp.app_template_global()
def phase_name(name: str) -> str:
    """A phase's display name on every page (the one place: phases.display_name)."""
    return gettext(phases.display_name(db(), name))


@bp.app_template_global()
def page_session() -> str | None:
    """The session (场次) a staff page is about, as people read it: every page of one
    session's day says it (field/_session.html) once there are several; None with one."""
    chosen = chosen_session()
    # A workstation of an event without sessions is scoped to the implicit one: its page
    # names no session, as its clock does not (sessions_shown.clock_session).
    if chosen is None or exam_sessions.is_implicit(chosen):
        return None
    return session_label(chosen)


@bp.app_template_global()
def session_label(exam_session) -> str:
    """A session (场次) as people read it (its name, else its code)."""
    return gettext(exam_sessions.label(exam_session, kiosk_instance().settings))


@bp.app_template_global()
def telemetry_name(kind: str) -> str:
    """What a workstation reported, in words (unknown kinds raw)."""
    label = telemetry.telemetry_label(kind)
    return gettext(label) if label else kind


def _no_store(response):
    # Exam pages are never cached: a shared or swapped workstation must not show a stale paper.
    response.headers["Cache-Control"] = "no-store, max-age=0"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/kiosk")
@public
def kiosk_page():
    station = None
    if session.get("station_id"):
        station = db().get(Station, session["station_id"])
        try:
            binding.check_session(db(), session["station_id"], session.get("station_nonce"),
                                request.remote_addr or "?")
        except KioskError:
            session.clear()  # released by a field judge: back to the badge
            station = None
    return _no_store(make_response(render_template("field/kiosk.html", station=station)))


# ----------------------------------------------------------------------------- chief judge

@bp.get("/control")
@requires(permissions.READ_CONTROL)
def control():
    now = clock.now()
    settings = kiosk_instance().settings
    the_day = timetable.day(db(), settings, now)
    rows = {p.key: p.row for p in the_day.parts}
    states = {p.key: p.state for p in the_day.parts}
    ends = {p.key: p.ends_at for p in the_day.parts}
    return render_template(
        "field/control.html", rows=rows, states=states, ends=ends, day=the_day,
        state_labels=phases.STATE_LABELS, kind_labels=timetable.KIND_LABELS,
        default_minutes={p.key: p.part.minutes for p in the_day.parts},
        change_over=_change_over(now),
        announcements=announcements.recent_announcements(db(), limit=20),
        hall_url=url_for("kiosk.hall", token=kiosk_instance().hall_token(), _external=True))


def _change_over(now: datetime) -> sessions_shown.ChangeOver | None:
    """With several sessions: is this session's day over, and which session comes next."""
    chosen = chosen_session()
    if chosen is None:
        return None
    return sessions_shown.change_over(db(), chosen, kiosk_instance().settings, now)


@bp.post("/control/phase")
@requires(permissions.CONTROL_EXAM)
def control_phase():
    form = request.form
    name, action = form.get("phase", ""), form.get("action", "")
    now = clock.now()
    try:
        if action == "start":
            minutes = float(form.get("minutes") or 0)
            at = None
            if form.get("at"):
                at = datetime.fromisoformat(form["at"]).astimezone()
            before = phases.get_phase(db(), name)
            was = before.starts_at if before is not None and clock.phase_state(
                phases.as_rule(before), now) == "scheduled" else None
            row = start_phase(db(), name, minutes, actor=current_actor(), now=now, at=at)
            flash(_started_message(name, row, at, was), "success")
        elif action == "pause":
            phases.pause(db(), name, reason=form.get("reason", ""), actor=current_actor(),
                         now=now)
        elif action == "resume":
            phases.resume(db(), name, actor=current_actor(), now=now)
        elif action == "cancel":
            phases.cancel(db(), name, actor=current_actor(), now=now)
            flash(gettext("The scheduled start is cancelled: %(phase)s has not started.",
                          phase=phase_name(name)), "success")
        elif action == "end":
            if form.get("confirm") != "yes":
                raise KioskError(gettext("Tick the box to confirm: ending stops every station "
                                         "at once."))
            phases.end(db(), name, actor=current_actor(), now=now)
        else:
            abort(400)
    except ValueError:
        flash(gettext("Enter the minutes and the time as numbers."), "error")
    except KioskError as exc:
        flash(translated(exc), "error")
    return redirect(url_for("kiosk.control"))


def _started_message(name: str, row, at: datetime | None, was: datetime | None) -> str:
    """What the chief judge is told after Start, Schedule or Change the start."""
    def shown(moment: datetime) -> str:
        return clock.local_display(moment, "%Y-%m-%d %H:%M")

    if at is None:
        return gettext("%(phase)s has started; it ends at %(end)s.", phase=phase_name(name),
                       end=clock.local_display(row.ends_at, "%H:%M:%S"))
    if was is not None:
        return gettext("The start of %(phase)s is changed to %(at)s (was %(was)s).",
                       phase=phase_name(name), at=shown(row.starts_at), was=shown(was))
    return gettext("%(phase)s will start at %(at)s and end at %(end)s.", phase=phase_name(name),
                   at=shown(row.starts_at), end=shown(row.ends_at))


@bp.post("/control/announce")
@requires(permissions.CONTROL_EXAM)
def announce():
    try:
        if request.form.get("withdraw"):
            announcements.withdraw(db(), int(request.form["withdraw"]), actor=current_actor(),
                           now=clock.now())
            flash(gettext("Withdrawn: the workstations stop showing it within 10 seconds."),
                  "success")
        else:
            announcements.announce(db(), request.form.get("text", ""), actor=current_actor(),
                           now=clock.now())
            flash(gettext("Announced: every workstation and the hall clock show it within "
                          "10 seconds."), "success")
    except (KioskError, ValueError) as exc:
        flash(translated(exc) if isinstance(exc, KioskError) else str(exc), "error")
    return redirect(url_for("kiosk.control"))


# ----------------------------------------------------------------------------- the timetable

@bp.route("/timetable", methods=["GET", "POST"])
@requires(permissions.READ_TIMETABLE, post=permissions.EDIT_TIMETABLE)
def timetable_page():
    """赛程: the day's parts in order and their state; the chief judge replaces the timetable
    (a file, or the text box) until a part has started."""
    settings = kiosk_instance().settings
    problems: list[str] = []
    typed = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            raw, filename = upload.read(), upload.filename
        else:
            typed = request.form.get("text", "")
            raw, filename = typed.encode("utf-8"), "timetable.toml"
        try:
            if not raw.strip():
                raise KioskError(gettext("Choose a file first."))
            new_parts = timetable.parse(raw, filename, settings)
            timetable.replace(db(), new_parts, actor=current_actor(), now=clock.now())
        except ImportErrors as exc:
            problems = [p.render(gettext) for p in exc.problems]
        except KioskError as exc:
            problems = [translated(exc)]
        else:
            flash(gettext("The timetable is saved: %(n)s parts.", n=len(new_parts)), "success")
            return redirect(url_for("kiosk.timetable_page"))
    the_day = timetable.day(db(), settings, clock.now())
    started = [p for p in the_day.parts if p.state not in ("not_started", "scheduled")]
    status = 422 if problems else 200
    return render_template(
        "field/timetable.html", day=the_day, started=started, problems=problems,
        state_labels=phases.STATE_LABELS, kind_labels=timetable.KIND_LABELS,
        is_default=timetable.is_default(db()),
        text=typed if typed is not None else timetable.as_toml(
            [p.part for p in the_day.parts], gettext),
    ), status


# ----------------------------------------------------------------------------- field judges

@bp.get("/field")
@requires(permissions.WATCH_STATIONS)
def dashboard():
    now = clock.now()
    rows, current = board.dashboard(db(), now, kiosk_instance().settings)
    part = timetable.find(db(), kiosk_instance().settings, current.name) if current else None
    hall = board.hall_map(db(), rows, current, part, now)
    wanted = request.args.get("show", "")
    if wanted == "offline":
        rows = [r for r in rows if (r.occupied or r.last_seen) and not r.online]
    elif wanted == "flagged":
        rows = [r for r in rows if r.flags or r.incidents]
    elif wanted == "unused":
        rows = [r for r in rows if not r.occupied and r.last_seen is None]
    view = request.args.get("view", "") if hall else ""
    shown = {r.code for r in rows} if wanted else None
    return render_template("field/dashboard.html", rows=rows, current=current, now=now,
                           show=wanted, part=part, hall=hall, view=view,
                           seat_states=board.SEAT_STATES, seat_symbols=SEAT_SYMBOLS,
                           seat_cells=board_seats(hall, shown)
                           if hall and view != "list" else {}, shown=shown)


@bp.get("/field/progress")
@requires(permissions.WATCH_STATIONS)
def progress_page():
    """The hall's progress during a part, per minute (field/progress.py), as a chart and its
    table; its script fetches it again every 30 s."""
    now = clock.now()
    settings = kiosk_instance().settings
    shown = progress.hall_progress(db(), settings, now, request.args.get("part") or None)
    busy = [] if shown is None else [
        (shown.at(m), shown.answers[m], shown.submissions[m], shown.hand_ins[m])
        for m in range(shown.minutes)
        if shown.answers[m] or shown.submissions[m] or shown.hand_ins[m]]
    return render_template("field/progress.html", shown=shown, now=now, busy=busy,
                           parts=progress.parts_begun(db(), settings, now),
                           chart=_progress_chart(shown) if shown else None)


def _progress_chart(shown: progress.Progress) -> charts.Chart:
    step = next(s for s in (1, 5, 10, 15, 30, 60, 120) if shown.minutes / s <= 13)
    ticks = [(m, clock.local_display(shown.at(m), "%H:%M"))
             for m in range(0, shown.minutes, step)]
    with nullcontext() if charts.draws_chinese() else force_locale("en"):
        return charts.hall_progress(
            [(gettext("Answers saved"), shown.answers),
             (gettext("Theory papers handed in"), shown.submissions),
             (gettext("Hand-ins (files)"), shown.hand_ins)], ticks,
            {"title": gettext("%(part)s, minute by minute", part=phase_name(shown.part)),
             "x": gettext("Time"), "y_top": gettext("Answers saved per minute"),
             "y_bottom": gettext("Hand-ins per minute")})


@bp.get("/field/<code>")
@requires(permissions.WATCH_STATIONS)
def station_detail(code: str):
    return _station_page(code, typed={})


def _station_page(code: str, typed):
    station, telemetry, incidents, extensions = board.station_log(db(), code)
    the_day = timetable.day(db(), kiosk_instance().settings, clock.now())
    running, _ = board.board_part(db(), clock.now(), kiosk_instance().settings)
    part_names = {row.id: row.name for row in (p.row for p in the_day.parts) if row is not None}
    return render_template("field/station.html", station=station, telemetry=telemetry,
                           incidents=incidents, extensions=extensions, typed=typed,
                           day=the_day, running=running.name if running else "",
                           part_names=part_names, state_labels=phases.STATE_LABELS)


@bp.post("/field/<code>/act")
@requires(permissions.ACT_ON_STATIONS)
def station_act(code: str):
    form = request.form
    action = form.get("action", "")
    now = clock.now()
    try:
        if action == "release":
            binding.release(db(), code, actor=current_actor(), now=now)
            flash(gettext("Released: the station can sign in on another workstation."),
                  "success")
        elif action == "rebind":
            binding.rebind(db(), code, form.get("ip", ""), actor=current_actor(), now=now)
            flash(gettext("Binding saved."), "success")
        elif action == "extend":
            minutes = numbers.parse_minutes(form.get("minutes"))
            phases.extend(db(), code, minutes, form.get("reason", ""), actor=current_actor(),
                          now=now, phase_name=form.get("part") or None)
            flash(gettext("%(station)s has %(m)s more minutes; its screen shows the new time.",
                          station=code, m=f"{minutes:g}"), "success")
        elif action == "early_finish":
            incidents.early_finish(db(), code, actor=current_actor(), now=now,
                                   phase_name=form.get("phase") or None,
                                   settings=kiosk_instance().settings)
            flash(gettext("Early finish recorded."), "success")
        elif action == "incident":
            incidents.note_incident(db(), code, form.get("rule", ""), note=form.get("note", ""),
                                deduction=form.get("deduction", ""), actor=current_actor(),
                                now=now)
            flash(gettext("Incident recorded."), "success")
        else:
            abort(400)
    except KioskError as exc:
        # Refused: the page again with what the judge typed, to correct rather than retype.
        flash(translated(exc), "error")
        return _station_page(code, typed=form), 400
    return redirect(url_for("kiosk.station_detail", code=code))


# ----------------------------------------------------------------------------- the hall map

# The states' symbols: each state has its own outline (hall-map.css) and symbol as well as its
# colour, so that the map reads without colour too.
SEAT_SYMBOLS = {"unused": "", "spare": "◇", "not_started": "○", "working": "▶",
                "answering": "✎", "handed_in": "✓", "finished": "■", "time_over": "◼",
                "on_paper": "✍", "offline": "✕"}
_SEAT_CELL = Markup(
    '<td class="hm-seat st-{state}{extra}"><a href="{href}" title="{title}">'
    '<span class="hm-code">{code}</span><span class="hm-state"><span aria-hidden="true">'
    '{symbol}</span> {words}</span>{progress}{marks}</a></td>')
_PROGRESS = Markup('<progress class="hm-progress" max="{total}" value="{done}" '
                   'aria-hidden="true"></progress>')


def board_seats(hall: board.HallMap, shown: set[str] | None) -> dict[str, Markup]:
    """Each station's cell on the board's map, made here rather than in the template: 500
    seats through a macro's caller cost the page more than its whole list (bench/pages.py);
    every text is translated once and escaped by Markup.format."""
    labels = {key: gettext(label) for key, label in board.SEAT_STATES.items()}
    extended = gettext("extended")
    detail = url_for("kiosk.station_detail", code="\x00")
    cells = {}
    for code, seat in hall.seats.items():
        r = seat.row
        words = labels[seat.state]
        if hall.kind == "theory" and seat.total and (
                seat.state in ("answering", "time_over")
                or (seat.state == "offline" and r.answered)):
            words += f" {r.answered}/{seat.total}"
        marks = []
        if r.extra_minutes:
            marks.append(Markup('<span class="hm-mark hm-ext">{} +{}′</span>').format(
                extended, f"{r.extra_minutes:.1f}"))
        if r.incidents:
            marks.append(Markup('<span class="hm-mark hm-inc">⚠ {}</span>').format(
                gettext("%(n)s incidents", n=r.incidents)))
        extra = (" hm-match" if shown is not None and code in shown else "") + \
            (" hm-has-incident" if r.incidents else "")
        cells[code] = _SEAT_CELL.format(
            state=seat.state, extra=extra, href=detail.replace("%00", code),
            title=gettext("%(station)s: %(state)s", station=code, state=words), code=code,
            symbol=SEAT_SYMBOLS[seat.state], words=words,
            progress=_PROGRESS.format(total=seat.total or 1, done=r.answered)
            if seat.state == "answering" else "",
            marks=Markup('<span class="hm-marks">{}</span>').format(Markup("").join(marks))
            if marks else "")
    return cells



@bp.route("/field/layout", methods=["GET", "POST"])
@requires(permissions.WATCH_STATIONS, post=permissions.EDIT_HALL_LAYOUT)
def hall_layout_page():
    """场地布局图: the layout in force and its map; the chief judge imports a file or edits the
    text, with a preview (all or nothing: every problem listed)."""
    problems: list[str] = []
    warnings: list[str] = []
    preview = None
    stored = hall_layout.stored(db())
    text = stored.row.source if stored else ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            raw, filename = upload.read(), upload.filename
        else:
            text = request.form.get("text", "")
            raw, filename = text.encode("utf-8"), "layout.txt"
        try:
            if not raw.strip():
                raise KioskError(gettext("Choose a file first."))
            if request.form.get("action") == "preview":
                checked = hall_layout.validate(db(), raw, filename)
            else:
                checked = hall_layout.import_layout(db(), raw, filename, actor=current_actor(),
                                                    now=clock.now())
        except ImportErrors as exc:
            problems = [p.render(gettext) for p in exc.problems]
        except KioskError as exc:
            problems = [translated(exc)]
        else:
            warnings = [w.render(gettext) for w in checked.warnings]
            if request.form.get("action") != "preview":
                flash(gettext("The hall layout is saved: %(n)s stations on the map.",
                              n=len(checked.layout.stations)), "success")
                for warning in warnings:
                    flash(warning, "error")
                return redirect(url_for("kiosk.hall_layout_page"))
            preview = checked.layout
    if request.form.get("fragment"):  # the live preview (hall-layout.js): the preview alone
        return render_template("field/_layout_preview.html", preview=preview,
                               problems=problems, warnings=warnings)
    return render_template("field/hall_layout.html", stored=stored, text=text,
                           preview=preview, problems=problems, warnings=warnings), \
        422 if problems else 200


@bp.get("/field/layout.pdf")
@requires(permissions.WATCH_STATIONS)
def hall_map_pdf():
    """The A3 map for the field judges (landscape, station codes large)."""
    settings = kiosk_instance().settings
    data = hall_map_print.render(db(), event_name=settings.event_name,
                                 font_config=settings.pdf_font, now=clock.now())
    return send_file(BytesIO(data), mimetype="application/pdf", download_name="hall-map.pdf",
                     max_age=0)


# ----------------------------------------------------------------------------- the hall clock

@bp.get("/hall/<token>")
@public
def hall(token: str):
    """大屏倒计时 for the projector: no login, the view link is the key (read-only)."""
    if not hmac.compare_digest(token, kiosk_instance().hall_token()):
        abort(404)
    return _no_store(make_response(render_template("field/hall.html")))
