"""The application factory: one Flask app per instance folder."""

from __future__ import annotations

import io
import ipaddress
import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask, Request, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from kiosk import i18n, web
from kiosk.api import bp as api_bp
from kiosk.badge_door import BadgeGuessDoor
from kiosk.checkin.views import bp as checkin_bp
from kiosk.collect.hand_ins import remove_partials
from kiosk.collect.views import bp as collect_bp
from kiosk.config import instance_path_from
from kiosk.db import DEFAULT_POOL_SIZE
from kiosk.field.views import bp as field_bp
from kiosk.instance import open_instance
from kiosk.materials.views import bp as materials_bp
from kiosk.models import StaffUser
from kiosk.results.views import bp as results_bp
from kiosk.staff_views import bp as staff_bp
from kiosk.stations.guessing import BADGE_GUARD, BadgeGuard
from kiosk.theory_exam.views import bp as theory_bp

csrf = CSRFProtect()
login_manager = LoginManager()


class KioskRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        # Werkzeug writes a form's file over 500 KiB to a temp file, in plaintext: a roster holds
        # every contestant's ID number. The only routes that take files are the staff imports,
        # whose body limit (web.IMPORT_BODY_LIMIT) bounds what stays in memory; hand-ins never
        # come through a form.
        return io.BytesIO()


def create_app(instance_path: str | Path | None = None, *, database_url: str | None = None,
               testing: bool = False, migrate: bool = False,
               pool_size: int = DEFAULT_POOL_SIZE) -> Flask:
    path = instance_path_from(instance_path)
    instance = open_instance(path, database_url=database_url, migrate=migrate,
                             pool_size=pool_size)
    settings = instance.settings

    app = Flask(__name__, instance_path=str(path), instance_relative_config=True)
    app.request_class = KioskRequest
    app.extensions["kiosk"] = instance
    # Wrong badge codes are counted in this process's memory, never in the database.
    app.extensions[BADGE_GUARD] = BadgeGuard()
    app.json = web.KioskJSONProvider(app)
    # A doubled slash names nothing here: answer 404 like any unknown address rather than
    # redirecting a workstation's API call somewhere it did not ask for.
    app.url_map.merge_slashes = False
    app.config.update(
        SECRET_KEY=instance.secret_key(),
        TESTING=testing,
        # The day lasts hours; a form opened at 08:00 must still submit at 17:00.
        WTF_CSRF_TIME_LIMIT=int(timedelta(hours=14).total_seconds()),
        WTF_CSRF_SSL_STRICT=False,  # LAN over plain HTTP is the norm; SameSite covers it
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="kiosk_session",
        # Behind the TLS terminator every request is HTTPS: cookies never travel in the clear.
        SESSION_COOKIE_SECURE=settings.behind_proxy,
        REMEMBER_COOKIE_SECURE=settings.behind_proxy,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=14),
        # The cookie is set at sign-in for the whole day; re-signing and re-compressing it on
        # every answer save would cost the hot path for nothing.
        SESSION_REFRESH_EACH_REQUEST=False,
        # Each view declares its own limit (web.body_limit), set per request by body_limit_guard;
        # this is only what a request gets if it never reaches that guard.
        MAX_CONTENT_LENGTH=web.DEFAULT_BODY_LIMIT,
        MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
        JSON_AS_ASCII=False,
        BABEL_DEFAULT_LOCALE=i18n.DEFAULT_LOCALE,
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        KIOSK_SETTINGS=settings,
        KIOSK_ALLOWED_NETWORKS=[ipaddress.ip_network(n, strict=False)
                                for n in settings.allowed_networks],
    )
    logging.getLogger("kiosk").setLevel(settings.log_level)

    Babel(app, locale_selector=i18n.select_locale, timezone_selector=lambda: None)
    # Before the CSRF check, which reads the form: a body over its limit is never read.
    app.before_request(web.body_limit_guard)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(_load_staff_user)

    app.before_request(web.allowed_network_guard)
    app.before_request(web.api_csrf_guard)
    app.before_request(web.nul_guard)
    app.teardown_appcontext(web.close_db)
    app.after_request(_security_headers)
    web.register_error_handlers(app)

    @app.errorhandler(CSRFError)
    def on_csrf_error(_exc):
        return web.error_response("csrf", i18n.gettext(
            "The form has expired or was not sent from this page. Reload the page and try "
            "again."), 400)

    _register_blueprints(app)
    web.check_navigation(app)
    # What a crash left mid-upload was never acknowledged: it goes before anything is served.
    remove_partials(instance.archives_dir)
    i18n.register_template_helpers(app)
    web.register_template_filters(app)
    # Badge guesses over their limit are refused before Flask runs at all (kiosk.badge_door).
    app.wsgi_app = BadgeGuessDoor(app.wsgi_app, app.extensions[BADGE_GUARD])
    return app


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(field_bp)
    app.register_blueprint(checkin_bp)
    app.register_blueprint(theory_bp)
    app.register_blueprint(collect_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(materials_bp)
    # The kiosk's JSON API is protected by api_csrf_guard (origin + content type), not by tokens.
    csrf.exempt(api_bp)


def _load_staff_user(user_id: str) -> StaffUser | None:
    kind, _, number = user_id.partition(":")
    if kind != "staff" or not number.isdigit():
        return None
    user = web.db().get(StaffUser, int(number))
    return user if user is not None and user.active else None


def _security_headers(response):
    # Everything the pages need is served from here: no CDN, no inline script from elsewhere.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith(web.API_PREFIX):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
