"""Chinese first, English second.

Source strings are English; the Chinese catalog lives in `translations/zh_Hans_CN`. The folder must
carry the script subtag: Babel parses `zh_CN` as `zh_Hans_CN`, so a catalog in a folder named
`zh_CN` is silently never loaded and every page falls back to English.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources

from babel.support import NullTranslations, Translations
from flask import Flask, request
from flask_babel import get_locale, gettext, lazy_gettext, ngettext

from kiosk.errors import N_

__all__ = ["N_", "gettext", "lazy_gettext", "ngettext"]

DEFAULT_LOCALE = "zh_Hans_CN"
LOCALES = {"zh_Hans_CN": "中文", "en": "English"}
LANG_COOKIE = "kiosk_lang"



def select_locale() -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LOCALES else DEFAULT_LOCALE


def html_lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh-CN"


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def inject_language():
        return {"locales": LOCALES, "current_locale": str(get_locale()), "html_lang": html_lang()}


@cache
def _catalog(locale: str) -> NullTranslations:
    directory = str(resources.files("kiosk") / "translations")
    return Translations.load(directory, [locale])


def locale_gettext(locale: str, message: str) -> str:
    """A message in one locale, outside any request (a WSGI layer in front of Flask)."""
    return _catalog(locale if locale in LOCALES else DEFAULT_LOCALE).gettext(message)


def cli_gettext(message: str, **params: object) -> str:
    """Translation outside a request (the `kiosk` command): `KIOSK_LANG=en` for English."""
    locale = os.environ.get("KIOSK_LANG", DEFAULT_LOCALE)
    text = _catalog("en" if locale.startswith("en") else DEFAULT_LOCALE).gettext(message)
    try:
        return text % params if params else text
    except (KeyError, ValueError, TypeError):
        return text
