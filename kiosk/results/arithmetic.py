"""The arithmetic of a total, pure and in exact decimals: the weighted theory score (score ÷ full
marks × weight) rounded half up to 0.01 once; percentage deductions taken from that weighted
theory plus the practical mark, summed and rounded half up to 0.01 once; never below 0."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Total:
    theory_weighted: Decimal
    deduction: Decimal
    total: Decimal


def compute_total(theory: Decimal, theory_full: Decimal, weight: Decimal, practical: Decimal,
                  deductions: list[tuple[str, Decimal]]) -> Total:
    """Pure. `deductions` are (unit, amount): ("percent", 5) takes 5 % of the total before
    deductions; ("points", 2) takes 2 points."""
    weighted = cents(theory / theory_full * weight) if theory_full > 0 and weight else Decimal(0)
    before = weighted + practical
    deducted = sum((before * amount / HUNDRED if unit == "percent" else amount
                    for unit, amount in deductions), Decimal(0))
    deducted = cents(deducted)
    return Total(weighted, deducted, max(before - deducted, Decimal(0)).quantize(CENT))
