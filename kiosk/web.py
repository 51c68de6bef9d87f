"""What every blueprint shares: the request's database session, declared access, error pages.

Access is declared on each view, never sprinkled inside it: `@requires(permissions.X)` for staff
pages (who holds X is kiosk/permissions.py), `@station_required` for the kiosk's API, `@public`
for the few open pages. A test walks the URL map and fails on any view that declares nothing, so
a new route cannot be forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Literal, TypeVar
from urllib.parse import urlencode

from flask import (
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from kiosk import clock, scope
from kiosk.audit import Actor
from kiosk.clock import local_display
from kiosk.collect.resumable import PIECE_BYTES
from kiosk.errors import Forbidden, KioskError, Unauthorized, translate_params
from kiosk.instance import Instance
from kiosk.models import ExamSession
from kiosk.network import address_allowed
from kiosk.permissions import TABLE as PERMISSIONS
from kiosk.permissions import Permission
from kiosk.stations import exam_sessions
from kiosk.stations.binding import check_session_fast
from kiosk.tabular import json_number

F = TypeVar("F", bound=Callable)
API_PREFIX = "/api/"


def kiosk_instance() -> Instance:
    return current_app.extensions["kiosk"]


def db() -> Session:
    if "db" not in g:
        g.db = kiosk_instance().session()
        _scope_to_the_requests_session(g.db)
    return g.db


# The staff member's choice of session (场次), in their cookie session (the header's switch).
CHOSEN_SESSION = "exam_session"


def _scope_to_the_requests_session(database: Session) -> None:
    """Which session this request is about (kiosk.scope): a workstation's own (set at its
    sign-in: no query on the hot path); else the one staff chose in the header; else the one
    the hall's stations serve now. With one session there is nothing to choose."""
    own = session.get("station_exam_session")
    if session.get("station_id") and own:
        scope.use(database, scope.Scope(*own))
        return
    sessions = exam_sessions.every(database)
    if len(sessions) == 1:
        return
    code = session.get(CHOSEN_SESSION)
    chosen = next((s for s in sessions if s.code == code), None)
    if chosen is None:
        chosen = exam_sessions.current(database, kiosk_instance().settings, clock.now())
    exam_sessions.enter(database, chosen)


def chosen_session() -> ExamSession | None:
    """The session this staff request is about; None in an event of one session."""
    database = db()
    if scope.current(database) is None:
        return None
    return exam_sessions.chosen(database)


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()  # rolls back whatever was not committed


# ----------------------------------------------------------------------------- declared access

@dataclass(frozen=True)
class Access:
    """What a view declares: who may call it. A staff view names one permission of the table,
    and a second one for its POST where the page's writes are narrower than the page."""

    kind: Literal["staff", "station", "public"]
    permission: Permission | None = None
    post: Permission | None = None

    def permission_for(self, method: str) -> Permission | None:
        return self.post if method == "POST" and self.post is not None else self.permission


def requires(permission: Permission, *, post: Permission | None = None) -> Callable[[F], F]:
    """Staff only, and only the roles that hold `permission` (for a POST: `post`, if given)."""
    access = Access("staff", permission, post)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith(API_PREFIX):
                    raise Unauthorized(gettext("Please sign in."))
                return redirect(url_for("auth.login", next=request.full_path))
            if not access.permission_for(request.method).granted_to(current_user.role):
                raise Forbidden(gettext("Your role may not open this page."))
            return view(*args, **kwargs)

        wrapped.access = access  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def may(permission: Permission) -> bool:
    """May the signed-in staff member do this? For a part of a page: views and templates ask it
    (templates as `may(NAME)`); a name that is no permission is a mistake, refused loudly."""
    if not isinstance(permission, Permission):
        raise TypeError(f"may() asks a permission of kiosk.permissions, not {permission!r}")
    return bool(current_user.is_authenticated) and permission.granted_to(current_user.role)


def current_actor():
    """The signed-in staff member, as the audit log names them."""
    return Actor(current_user.username, current_user.role)


def station_required(view: F) -> F:
    """A contestant's workstation that has logged in with its badge."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not session.get("station_id"):
            raise Unauthorized(gettext("This workstation is not logged in to a station."))
        # One browser per station: a released or taken-over session stops here.
        check_session_fast(db(), session["station_id"], session.get("station_nonce"),
                           request.remote_addr or "?")
        g.station_id = session["station_id"]
        return view(*args, **kwargs)

    wrapped.access = Access("station")  # type: ignore[attr-defined]
    return wrapped  # type: ignore[return-value]


def public(view: F) -> F:
    view.access = Access("public")  # type: ignore[attr-defined]
    return view


# ----------------------------------------------------------------------------- declared body limits

KiB = 1024
MiB = 1024 * KiB
# What a route takes when it declares nothing: every JSON call and staff form of the day fits
# (a telemetry batch of 20 events is the largest, ~13 KiB at worst), and a body an anonymous
# client sends to any of them costs at most this much.
DEFAULT_BODY_LIMIT = 16 * KiB
# A staff file import (roster, question bank, score sheet, an age identity on the unseal page)
# or the score entry form of a whole hall: the demo bank is 35 KB, a 500-row roster ~50 KB.
IMPORT_BODY_LIMIT = 8 * MiB
# One piece of a resumable hand-in (the raw bytes of the piece, no multipart around them): the
# service's own rule, declared here for the door.
PIECE_BODY_LIMIT = PIECE_BYTES
# A whole hand-in in one request: the instance's `upload_limit_mb`, known only at run time.
HAND_IN_BODY_LIMIT = "hand_in"


def body_limit(limit: int | str) -> Callable[[F], F]:
    """The largest request body this view takes, in bytes (or HAND_IN_BODY_LIMIT). Declared
    once here, asked twice: waitress refuses a larger body as soon as the headers arrive
    (kiosk.http), and Flask refuses it for any other server or the test client."""

    def decorate(view: F) -> F:
        view.body_limit = limit  # type: ignore[attr-defined]
        return view

    return decorate


def declared_body_limit(view: Callable | None, upload_limit_mb: int) -> int:
    limit = getattr(view, "body_limit", DEFAULT_BODY_LIMIT)
    return upload_limit_mb * MiB if limit == HAND_IN_BODY_LIMIT else int(limit)


def body_limits_by_endpoint(app: Flask) -> dict[str, int]:
    upload_limit_mb = app.config["KIOSK_SETTINGS"].upload_limit_mb
    return {endpoint: declared_body_limit(view, upload_limit_mb)
            for endpoint, view in app.view_functions.items()}


# What the server layer tells the application about a body it refused to read (environ keys).
BODY_REFUSED = "kiosk.body_refused"  # the body was over the route's limit
SPOOL_FULL = "kiosk.spool_full"  # the body could not be spooled: the temp folder is full


def body_limit_guard():
    """Runs first: a body over the route's declared limit is answered 413 before anything reads
    it, and a body the server could not spool is answered 507 (nothing of it was kept)."""
    if request.environ.get(SPOOL_FULL):
        # The same answer as a full archive folder (kiosk.collect): to the contestant, a full
        # disk is a full disk.
        return error_response("insufficient_storage", gettext(
            "The server's disk is full; nothing was stored. Tell a judge now."), 507)
    view = current_app.view_functions.get(request.endpoint or "")
    limit = declared_body_limit(view, current_app.config["KIOSK_SETTINGS"].upload_limit_mb)
    request.max_content_length = limit
    if request.environ.get(BODY_REFUSED) or (request.content_length or 0) > limit:
        abort(413)
    return None


# ----------------------------------------------------------------------------- navigation

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Callable[[], str]  # called at render time, so the label follows the language
    order: int  # the day's order: home first, then check-in, draws, exam, … audit last
    # Shown to the roles of the page it opens, unless narrowed to a permission of the table that
    # only some of them hold (a role that reaches the page from another entry).
    shown_to: Permission | None = None


NAV: list[NavItem] = []


def nav_item(endpoint: str, label: Callable[[], str], *, order: int = 50,
             shown_to: Permission | None = None) -> None:
    if not any(item.endpoint == endpoint for item in NAV):
        NAV.append(NavItem(endpoint, label, order, shown_to))


class NavigationError(RuntimeError):
    """A navigation entry that could never be shown or opened: a mistake in the code."""


def nav_permission(app: Flask, item: NavItem) -> Permission:
    """Who sees the entry: the permission of the staff page it opens (for GET), or the
    narrower one it names. Anything else is a NavigationError."""
    view = app.view_functions.get(item.endpoint)
    if view is None:
        raise NavigationError(f"navigation entry {item.endpoint!r} names no route")
    access = getattr(view, "access", None)
    if access is None or access.permission is None:
        kind = access.kind if access else "undeclared"
        raise NavigationError(f"navigation entry {item.endpoint!r} opens no staff page ({kind})")
    if item.shown_to is None:
        return access.permission
    refused = item.shown_to.roles - access.permission.roles
    if refused:
        raise NavigationError(f"navigation entry {item.endpoint!r} is shown to roles its "
                              f"page refuses: {', '.join(sorted(refused))}")
    return item.shown_to


def check_navigation(app: Flask) -> None:
    """Asked once when the app is made: every entry opens a real staff page, and is shown only
    to roles that page lets in. A wrong name would otherwise leave the entry missing without
    a word."""
    for item in NAV:
        nav_permission(app, item)


def nav_for(role: str | None) -> list[NavItem]:
    return sorted((item for item in NAV if nav_permission(current_app, item).granted_to(role)),
                  key=lambda item: item.order)


# ----------------------------------------------------------------------------- request guards

def allowed_network_guard() -> None:
    """Nothing answers outside the allowed LAN ranges. The socket's peer decides: behind no
    proxy, a forwarded-for header is the client's word, and the client may lie."""
    if not address_allowed(request.remote_addr or "", current_app.config["KIOSK_ALLOWED_NETWORKS"]):
        abort(403)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


# No number the day uses comes near these: a seq, a mark, a count. Larger ones are absurd
# (and past 2**53 a browser cannot even count them exactly), so they read as malformed JSON.
JSON_INT_LIMIT = 2**53 - 1
JSON_DEPTH_LIMIT = 32


def _json_int(text: str) -> int:
    value = int(text)  # Python refuses past 4300 digits with ValueError already
    if abs(value) > JSON_INT_LIMIT:
        raise ValueError("integer out of range in JSON")
    return value


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 reads as infinity
        raise ValueError("number out of range in JSON")
    return value


def _json_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _json_depth(value) -> int:
    """Nesting depth, counted without recursion (a deep value must not crash the counter)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > JSON_DEPTH_LIMIT:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


class KioskJSONProvider(DefaultJSONProvider):
    """JSON as Flask sends it, but what a request may say is narrower: a string holding NUL
    (PostgreSQL cannot store it, and no badge, answer or name contains one), NaN and infinity,
    integers past 2**53 and nesting past a few levels are not JSON the day can use. They read
    as malformed (ValueError), so every caller answers them with its own 400."""

    ensure_ascii = False

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_int", _json_int)
        kwargs.setdefault("parse_float", _json_float)
        kwargs.setdefault("parse_constant", _json_constant)
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:  # thousands of [ before the first ]
            raise ValueError("JSON nested too deeply") from exc
        if _json_depth(value) > JSON_DEPTH_LIMIT:
            raise ValueError("JSON nested too deeply")
        if _holds_nul(value):
            raise ValueError("NUL character in JSON")
        return value


def nul_guard() -> None:
    """The same for the address and the form fields (the API's JSON is refused on reading):
    answered 400 on either database, rather than a 500 on PostgreSQL only."""
    if "\x00" in request.path or any(_holds_nul(k) or _holds_nul(v)
                                      for k, v in request.args.items(multi=True)):
        abort(400)
    if request.mimetype == "application/x-www-form-urlencoded" and any(
            _holds_nul(k) or _holds_nul(v) for k, v in request.form.items(multi=True)):
        abort(400)


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def api_csrf_guard() -> None:
    """CSRF for the JSON API, which browser forms cannot reach: a write must not come from
    another origin, and must not carry a body type that a cross-site form can send. Together with
    SameSite=Strict cookies this closes CSRF without a token, so scripts and tools can call the
    API as documented."""
    if not request.path.startswith(API_PREFIX) or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    origin = request.headers.get("Origin")
    if origin and origin != request.host_url.rstrip("/"):
        raise Forbidden(gettext("Cross-site request refused."))
    content_type = (request.mimetype or "").lower()
    if request.content_length and content_type in FORM_CONTENT_TYPES:
        raise Forbidden(gettext("Cross-site request refused."))


# ----------------------------------------------------------------------------- errors

def wants_json() -> bool:
    if request.path.startswith(API_PREFIX) or request.is_json:
        return True
    return request.accept_mimetypes.best == "application/json"


def error_response(code: str, message: str, status: int, **extra):
    if wants_json():
        response = jsonify({"error": code, "message": message, **extra})
    else:
        response = current_app.make_response(
            (render_template("error.html", message=message, status=status), status))
    response.status_code = status
    return response


def translated(exc: KioskError) -> str:
    """A domain error's message in the reader's language; its details fill the placeholders."""
    params = translate_params(exc.details, gettext)
    try:
        return gettext(exc.message, **params)
    except (KeyError, ValueError):
        return exc.message


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(KioskError)
    def on_domain_error(exc: KioskError):
        extra = {}
        problems = getattr(exc, "problems", None)
        if problems:
            extra["problems"] = [p.render(gettext) for p in problems]
        # Facts a client acts on (a kiosk shows "paused" or the start time), never free text.
        extra.update({k: v for k, v in exc.details.items()
                      if k in ("state", "starts_at", "paused_at", "part") and isinstance(v, str)})
        response = error_response(exc.code, translated(exc), exc.status, **extra)
        if "retry_after" in exc.details:
            response.headers["Retry-After"] = str(exc.details["retry_after"])
        return response

    def http_error(code: str, message: Callable[[], str], status: int):
        def handler(exc):
            response = error_response(code, message(), status)
            allowed = getattr(exc, "valid_methods", None)
            if status == 405 and allowed:
                response.headers["Allow"] = ", ".join(sorted(allowed))  # RFC 9110
            return response
        app.register_error_handler(status, handler)

    @app.errorhandler(DataError)
    def on_unstorable_input(exc: DataError):
        # The database refused a value (a NUL in a multipart field, a number past its column):
        # the input's fault, answered as such; logged so a gap in the guards gets noticed.
        current_app.logger.warning("database refused input: %s", exc.orig)
        return error_response("bad_request", gettext(
            "The request holds a value that cannot be stored."), 400)

    http_error("bad_request", lambda: gettext("The request could not be understood."), 400)
    http_error("forbidden", lambda: gettext("Access refused."), 403)
    http_error("not_found", lambda: gettext("Not found."), 404)
    http_error("method_not_allowed", lambda: gettext("Method not allowed."), 405)
    http_error("too_large", lambda: gettext("The request is too large."), 413)
    http_error("server_error", lambda: gettext("Internal error; it has been logged."), 500)


def register_template_filters(app: Flask) -> None:
    app.add_template_filter(local_display, "localtime")
    # Templates ask the permission table by name: {% if may(PREPARE_THEORY) %}.
    app.add_template_global(may, "may")
    app.jinja_env.globals.update({name.upper(): permission
                                  for name, permission in PERMISSIONS.items()})

    @app.template_filter("mark")
    def mark(value) -> str:
        """A mark as people write it: 85, 72.5, 13.05; nothing for no mark."""
        return "" if value is None else str(json_number(value))

    @app.template_filter("duration")
    def duration(seconds: float | None) -> str:
        return "" if seconds is None else clock.duration_text(seconds, gettext)

    @app.template_filter("merge_query")
    def merge_query(args, **changes) -> str:
        merged = {k: v for k, v in args.items() if k not in changes}
        merged.update({k: v for k, v in changes.items() if v is not None})
        return urlencode(merged)
