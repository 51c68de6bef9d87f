"""The door in front of the application for badge guesses over their address's limit.

Refusing such a guess inside Flask costs about a millisecond of the server's one interpreter
(session cookie, JSON body, Babel, error handler), which a flooding workstation takes from every
station's answer saves. Here, before Flask, the refusal is a dictionary lookup and a prepared
answer: the same 429, error code, message (in the browser's language) and Retry-After as the
service's. The service still decides every guess that gets through (kiosk.stations.sign_in).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache

from werkzeug.http import parse_cookie

from kiosk import clock
from kiosk.errors import N_
from kiosk.i18n import DEFAULT_LOCALE, LANG_COOKIE, LOCALES, locale_gettext
from kiosk.stations.guessing import BadgeGuard

LOGIN_PATH = "/api/v1/station/login"
# The service's message, word for word: the catalog has it once.
TOO_MANY = N_("Too many wrong badge codes; try again in %(retry_after)s seconds.")


class BadgeGuessDoor:
    def __init__(self, app: Callable, guard: BadgeGuard) -> None:
        self.app, self.guard = app, guard
        self.messages = {locale: locale_gettext(locale, TOO_MANY) for locale in LOCALES}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == LOGIN_PATH and environ.get("REQUEST_METHOD") == "POST":
            retry_after = self.guard.refuses(environ.get("REMOTE_ADDR") or "?", clock.now())
            if retry_after:
                return self.refuse(environ, start_response, retry_after)
        return self.app(environ, start_response)

    def refuse(self, environ: dict, start_response: Callable,
               retry_after: int) -> Iterable[bytes]:
        cookie = environ.get("HTTP_COOKIE")
        locale = parse_cookie(cookie).get(LANG_COOKIE) if cookie else None
        body = self.answer(locale if locale in self.messages else DEFAULT_LOCALE, retry_after)
        start_response("429 TOO MANY REQUESTS", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            ("Retry-After", str(retry_after)), ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")])
        return [body]

    @lru_cache(maxsize=64)  # noqa: B019 (one door per app, for the app's lifetime)
    def answer(self, locale: str, retry_after: int) -> bytes:
        # A flood meets the same few answers (Retry-After is 1 to 3 s) thousands of times.
        return json.dumps({"error": "too_many_attempts",
                           "message": self.messages[locale] % {"retry_after": retry_after}},
                          ensure_ascii=False).encode("utf-8")
