"""Numbers that people type: marks, deductions. One rule for every page and command.

A Chinese input method in full-width mode (全角) types "８０", "８０．５" or "５％"; those mean
exactly 80, 80.5 and 5 %, so they are normalised (Unicode NFKC) and kept, and the page shows
what was stored. After that only ASCII digits with at most two decimals are a number: digits
of other scripts, exponents ("1e1"), signs, separators and words are refused with the reason,
never read silently (Python's Decimal alone would take "٨٠" as 80).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from kiosk.errors import N_, KioskError

_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]{1,2})?|\.[0-9]{1,2})")
LIMIT = Decimal(10) ** 6


def normalised(text: str | None) -> str:
    """What the typed text means once full-width forms are folded: "８０．５ " → "80.5"."""
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_decimal(text: str | None) -> Decimal | None:
    """A non-negative decimal with two decimals at most, or None. Exact (never a float)."""
    text = normalised(text)
    if not _NUMBER.fullmatch(text):
        return None
    value = Decimal(text)
    return value if value < LIMIT else None


def parse_deduction(text: str | None) -> tuple[str, Decimal] | None:
    """"5%" or "5 %" → ("percent", 5); "3" or "3.5" → ("points", 3.5); else None."""
    text = normalised(text)
    unit = "percent" if text.endswith("%") else "points"
    value = parse_decimal(text.removesuffix("%"))
    if value is None or value <= 0 or (unit == "percent" and value > 100):
        return None
    return unit, value


def deduction_text(unit: str, amount: Decimal) -> str:
    """How a deduction is written back: "5%" or "3.5"."""
    number = format(amount.normalize(), "f")
    return f"{number}%" if unit == "percent" else number


class NotADeduction(KioskError):
    code = "not_a_deduction"


def proposed_deduction(text: str | None) -> str:
    """A field judge's proposed deduction (违规记录): empty, or a valid deduction written back
    in ASCII; anything else is refused with the reason, like a bad mark."""
    if not normalised(text):
        return ""
    parsed = parse_deduction(text)
    if parsed is None:
        raise NotADeduction(N_("%(value)s is not a deduction: give a percentage of the total "
                               "(e.g. 5%%) or points (e.g. 2)."), value=(text or "").strip())
    return deduction_text(*parsed)


class NotMinutes(KioskError):
    code = "not_minutes"


def parse_minutes(text: str | None) -> float:
    """Minutes a judge typed (an extension, a phase's length): the same rule as a mark, so
    "nan", "inf", "1e1" and digits of other scripts are refused with the reason; full-width
    "１０" means 10. The range is the caller's rule."""
    value = parse_decimal(text)
    if value is None or value <= 0:
        raise NotMinutes(N_("%(value)s is not a number of minutes: type digits, e.g. 10 or "
                            "2.5."), value=(text or "").strip())
    return float(value)
