"""Resident identity card numbers (身份证号), GB 11643-1999: 17 digits and a check character."""

from __future__ import annotations

import unicodedata
from datetime import date

from kiosk.errors import N_

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalize(text: str) -> str:
    """What Excel and input methods do to an ID: full-width digits, spaces, a lower-case x."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).upper()


def problem(id_number: str, today: date) -> str | None:
    """None if valid, else the reason in English (a catalog message)."""
    if len(id_number) != 18:
        return N_("ID number must have 18 characters, not %(length)s")
    if not id_number[:17].isdigit() or not (id_number[17].isdigit() or id_number[17] == "X"):
        return N_("ID number must be 17 digits and a digit or X")
    if id_number[0] not in "12345678":
        return N_("ID number has no valid region code")
    try:
        birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return N_("ID number holds no real birth date")
    if birth.year < 1900 or birth > today:
        return N_("ID number holds no real birth date")
    if check_char(id_number[:17]) != id_number[17]:
        return N_("ID number check digit is wrong (typing error?)")
    return None


def mask(id_number: str) -> str:
    """For screens: 4205**********1234. Check-in staff see it whole only when comparing."""
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def make_valid(first17: str) -> str:
    """A number with its correct check character (for synthetic demo rosters and tests)."""
    return first17 + check_char(first17)
