"""Domain errors. Services raise them; one handler per interface (pages, API, CLI) shows them.

Each error carries a stable machine `code` (the API's `error` field), an HTTP status, and a
message in Chinese for the people in the hall (English through the catalog).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Marks an English message for the catalog; it is translated where it is shown."""
    return message


class Term(str):
    """A message's parameter that is itself a catalog message (a phase's display name): whoever
    shows the message translates it along with the message, so a Chinese sentence never
    carries an English word."""


def translate_params(details: dict, translate: Callable[[str], str]) -> dict:
    """An error's details as its message's parameters: plain values, `Term`s translated."""
    return {key: translate(value) if isinstance(value, Term) else value
            for key, value in details.items() if isinstance(value, str | int | float)}


class KioskError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(KioskError):
    code = "not_found"
    status = 404


class Forbidden(KioskError):
    code = "forbidden"
    status = 403


class Conflict(KioskError):
    code = "conflict"
    status = 409


class Unauthorized(KioskError):
    code = "unauthorized"
    status = 401


class Locked(KioskError):
    """Writing is closed: the deadline passed, the exam is paused, or the paper was submitted."""

    code = "locked"
    status = 423


class TooManyAttempts(KioskError):
    code = "too_many_attempts"
    status = 429


MAX_QUOTED = 60  # characters of a bad cell quoted back in a problem


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an imported file: `line N: reason` (line as Excel shows it)."""

    line: int | None
    message: str  # English, in the catalog; %(name)s placeholders filled from params
    params: dict = field(default_factory=dict)

    def render(self, translate: Callable[[str], str] = lambda text: text) -> str:
        text = translate(self.message)
        # A cell can be a whole page pasted by mistake: quote its start, not all of it.
        params = {key: value[:MAX_QUOTED] + "…" if isinstance(value, str) and
                  len(value) > MAX_QUOTED else value for key, value in self.params.items()}
        if params:
            try:
                text = text % params
            except (KeyError, ValueError, TypeError):
                text = self.message % params
        return f"line {self.line}: {text}" if self.line is not None else text


class ImportErrors(KioskError):
    """A file had bad rows; nothing was imported. `problems` lists every one of them."""

    code = "import_errors"
    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.render() for p in problems))
        self.problems = problems


class NotReady(Conflict):
    """A step cannot be taken yet; `problems` lists everything still missing."""

    code = "not_ready"

    def __init__(self, message: str, problems: list[Problem], **details: object) -> None:
        super().__init__(message, **details)
        self.problems = problems


class InstanceError(KioskError):
    code = "instance"
    status = 500
