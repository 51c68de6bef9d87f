"""Staff pages shared by every role: sign-in, the role's home, language, the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from kiosk import audit, clock, permissions, progress, staff
from kiosk.checkpoints import (
    CheckpointUnreadable,
    checkpoint_for_print,
    checkpoint_sheet_pdf,
    verify_for_instance,
)
from kiosk.device_cookie import COOKIE_NAME as DEVICE_COOKIE
from kiosk.device_cookie import LIFETIME as DEVICE_LIFETIME
from kiosk.device_cookie import DeviceCookies
from kiosk.errors import N_, NotFound
from kiosk.i18n import LANG_COOKIE, LOCALES, gettext, lazy_gettext
from kiosk.models import AuditEvent, ExamSession
from kiosk.permissions import STAFF
from kiosk.stations import exam_sessions, timetable
from kiosk.web import (
    CHOSEN_SESSION,
    chosen_session,
    db,
    kiosk_instance,
    nav_for,
    nav_item,
    public,
    requires,
)

bp = Blueprint("auth", __name__)

# Each role's name as the pages show it (msgids: the `kiosk demo` listing reads the same table).
ROLE_LABELS = {
    "chief": N_("Chief judge"),
    "checkin": N_("Check-in staff"),
    "crypt1": N_("First encryption judge"),
    "crypt2": N_("Second encryption judge"),
    "field": N_("Field judge"),
    "scorer": N_("Scorer"),
    "supervisor": N_("Supervisor"),
}
KEY_HOLDER_LABELS = {**ROLE_LABELS, "archive": N_("Hand-in archive")}
ROLE_NAMES = {role: lazy_gettext(label) for role, label in ROLE_LABELS.items()}

# Who wrote an audit event: a staff role, or the command line, or a contestant's station.
ACTOR_ROLE_NAMES = {**ROLE_NAMES, "cli": lazy_gettext("Command line"),
                    "station": lazy_gettext("Contestant's station"),
                    "system": lazy_gettext("The server itself")}  # exam.GRADER

nav_item("auth.home", lambda: str(lazy_gettext("Home")), order=0)
nav_item("auth.audit_log", lambda: str(lazy_gettext("Audit log")), order=99)


class CheckpointForm(FlaskForm):
    # A USB barcode scanner types the QR's text and Enter into the focused field.
    checkpoint = StringField(lazy_gettext("Audit checkpoint (type it or scan its QR code)"),
                             validators=[DataRequired(), Length(max=400)])


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(),
                                                                  Length(max=256)])


@bp.app_context_processor
def inject_staff_shell():
    role = current_user.role if current_user.is_authenticated else None
    return {"nav": nav_for(role), "role_names": ROLE_NAMES,
            "event_name": kiosk_instance().settings.event_name,
            "session_switch": _session_switch}


@dataclass(frozen=True)
class SessionSwitch:
    """The header's session (场次) switch: the one this page is about, and the others."""

    chosen: ExamSession
    choices: list[ExamSession]
    labels: dict[int, str]
    serving: int  # the session the hall's stations serve now


def _session_switch() -> SessionSwitch | None:
    chosen = chosen_session() if current_user.is_authenticated else None
    if chosen is None:
        return None
    settings = kiosk_instance().settings
    choices = exam_sessions.every(db())
    serving = exam_sessions.current(db(), settings, clock.now())
    return SessionSwitch(chosen, choices, {s.id: str(exam_sessions.label(s, settings))
                                           for s in choices}, serving.id)


@bp.route("/session", methods=["POST"])
@requires(STAFF)
def choose_session():
    """Every page after this one is about the session chosen here, until another is chosen."""
    chosen = exam_sessions.by_code(db(), request.form.get("code", ""))
    session[CHOSEN_SESSION] = chosen.code
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.home"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        instance, now = kiosk_instance(), clock.now()
        devices = DeviceCookies(instance.secret_key())
        username = form.username.data.strip()
        cookie = request.cookies.get(DEVICE_COOKIE)
        user = staff.authenticate(
            db(), username, form.password.data, address=request.remote_addr or "?",
            device=devices.device_for(cookie, username, now), now=now,
            limit_per_minute=instance.settings.login_attempts_per_minute)
        # A fresh session at sign-in: nothing from before (a fixed session id, a station
        # login on the same browser) survives into the staff session.
        session.clear()
        login_user(user)
        session.permanent = True
        response = redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
        response.set_cookie(DEVICE_COOKIE, devices.with_user(cookie, user.username, now),
                            max_age=int(DEVICE_LIFETIME.total_seconds()), httponly=True,
                            samesite="Strict", secure=instance.settings.behind_proxy)
        return response
    return render_template("login.html", form=form)


def _safe_next(target: str | None) -> str | None:
    # Only paths on this server: an open redirect would let a link send staff elsewhere.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/logout", methods=["POST"])
@requires(permissions.STAFF)
def logout():
    staff.record_logout(db(), current_user, now=clock.now())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    return redirect(url_for("auth.login"))


@bp.route("/staff")
@requires(permissions.STAFF)
def home():
    return render_template("home.html")


@bp.route("/lang/<code>", methods=["POST"])
@public
def set_language(code: str):
    target = _safe_next(request.form.get("next")) or url_for("auth.index")
    response = redirect(target)
    if code in LOCALES:
        # Remembered per browser: a workstation keeps its language across sessions and days.
        response.set_cookie(LANG_COOKIE, code, max_age=int(timedelta(days=365).total_seconds()),
                            samesite="Strict", httponly=True)
    return response


@bp.get("/jobs/<job_id>")
@requires(permissions.STAFF)
def job_status(job_id: str):
    """How far a job started from a page is (kiosk.progress), for its page's script: the
    signed-in user's own jobs only; another's is not found."""
    job = kiosk_instance().jobs.get(job_id[:32], current_user.id)
    if job is None:
        raise NotFound(gettext("No such job on this server."))
    shown = job.snapshot()
    shown["stage_text"] = gettext(shown["stage"]) if shown["stage"] else ""
    shown["amount_text"] = (progress.amount_text(shown["done"], shown["unit"]) + (
        " / " + progress.amount_text(shown["total"], shown["unit"])
        if shown["total"] is not None else ""))
    response = jsonify(shown)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/audit")
@requires(permissions.READ_AUDIT_LOG)
def audit_log():
    return _audit_page(CheckpointForm(formdata=None), None)


@bp.post("/audit/checkpoint")
@requires(permissions.READ_AUDIT_LOG)
def audit_checkpoint():
    """Check a checkpoint from paper against the log as it is now."""
    form = CheckpointForm()
    outcome = None
    if form.validate_on_submit():
        outcome = _checkpoint_outcome(form.checkpoint.data)
    return _audit_page(form, outcome)


@bp.get("/audit/checkpoint.pdf")
@requires(permissions.READ_AUDIT_LOG)
def audit_checkpoint_sheet():
    """A checkpoint of this moment on its own sheet, to sign and keep."""
    instance = kiosk_instance()
    data = checkpoint_sheet_pdf(checkpoint_for_print(instance),
                                event_name=instance.settings.event_name,
                                font_config=instance.settings.pdf_font)
    return send_file(BytesIO(data), mimetype="application/pdf", download_name="checkpoint.pdf",
                     max_age=0)


def _checkpoint_outcome(text: str) -> tuple[bool, str]:
    """(holds, what to tell the supervisor, in their language)."""
    try:
        report = verify_for_instance(kiosk_instance(), text)
    except CheckpointUnreadable as exc:
        return False, gettext(exc.message)
    checkpoint, chain = report.checkpoint, report.chain
    if report.ok:
        return True, gettext(
            "The audit log still holds this checkpoint unbroken: event %(seq)s with hash "
            "%(hash)s…, signed %(at)s. The log now has %(n)s events, every one chained.",
            seq=checkpoint.seq, hash=checkpoint.hash[:16], at=clock.local_display(checkpoint.at),
            n=chain.events)
    if chain is None:
        return False, gettext("This checkpoint is NOT genuine: %(reason)s. Compare the text "
                              "with the paper; if it matches, the paper was not printed by "
                              "this server.", reason=gettext(report.reason))
    return False, gettext(
        "The audit log does NOT hold this checkpoint (event %(seq)s, hash %(hash)s…) "
        "unbroken. From event %(at)s: %(reason)s.", seq=checkpoint.seq,
        hash=checkpoint.hash[:16], at=chain.first_broken, reason=gettext(chain.reason))


def _audit_page(form: CheckpointForm, outcome: tuple[bool, str] | None):
    args = request.args
    before = args.get("before", type=int)
    since = _parse_day_time(args.get("since", ""))
    until = _parse_day_time(args.get("until", ""))
    typed_action = args.get("action", "").strip()
    events = audit.list_events(db(), action=typed_action,
                               actions=audit.actions_matching(typed_action, gettext),
                               actor=audit.actor_code(args.get("actor", ""), gettext),
                               subject=args.get("subject", "").strip(),
                               since=since, until=until, before_seq=before, limit=100)
    names = _value_names()
    return render_template("audit.html", events=[_readable(e, names) for e in events],
                           args=args, checkpoint_form=form, checkpoint_outcome=outcome,
                           actor_roles=ACTOR_ROLE_NAMES,
                           action_choices=sorted({gettext(label) for label
                                                  in audit.ACTION_LABELS.values()}))


@dataclass(frozen=True)
class AuditRow:
    """One event as the audit page shows it: the action in words (None: unknown, shown raw)."""

    event: AuditEvent
    label: str | None
    details: list[tuple[str, str]]
    subject: str
    actor: str


def _value_names() -> dict[str, dict[str, str]]:
    names = {p.key: p.name for p in timetable.parts(db(), kiosk_instance().settings)}
    return {"role": dict(KEY_HOLDER_LABELS),
            "phase": {**timetable.DEFAULT_NAMES, **names}}


def _readable(event: AuditEvent, values: dict[str, dict[str, str]]) -> AuditRow:
    label = audit.action_label(event.action)
    # A phase's events name it as their subject: "理论考试", not "theory".
    phase = values["phase"].get(event.subject) if event.action.startswith("phase.") else None
    subject = phase or audit.subject_label(event.subject)
    return AuditRow(event, gettext(label) if label else None,
                    audit.readable_details(event.details, gettext, values),
                    gettext(subject) if subject else event.subject,
                    audit.actor_text(event.actor, gettext))


def _parse_day_time(text: str) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.astimezone()  # the hall's local time
