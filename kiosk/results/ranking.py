"""The ranking and the award tiers, as one pure function (exact decimals, no database).

Within a group (职工组 / 学生组): by total, descending; a tie on the total goes to the higher
practical mark, then to the less time used. Entries equal on all three share a rank (1, 2, 2, 4).

Award tiers: first prize 10 %, second 20 %, third 30 % of the group's contestants. The tiers are
cumulative and rounded half up: the first n1 = round(N × 10 %) places, the first
n1 + n2 = round(N × 30 %), the first n1 + n2 + n3 = round(N × 60 %). A tie is never split: when
the last place of a tier is shared, everyone sharing it gets that tier (the tier grows), and the
next tier still ends at its cumulative count (it shrinks accordingly, possibly to nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

AWARDS = (("一等奖", Decimal("0.10")), ("二等奖", Decimal("0.30")), ("三等奖", Decimal("0.60")))


@dataclass(frozen=True)
class Entry:
    station: str
    group: str
    total: Decimal
    practical: Decimal
    time_used_s: float | None  # None: unknown, ranks after any known time
    rank: int = 0
    award: str | None = None


def _key(entry: Entry) -> tuple:
    time = entry.time_used_s if entry.time_used_s is not None else float("inf")
    return (-entry.total, -entry.practical, time)


def cumulative_counts(size: int) -> list[int]:
    return [int((Decimal(size) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            for _, share in AWARDS]


def rank_group(entries: Sequence[Entry]) -> list[Entry]:
    ordered = sorted(entries, key=lambda e: (_key(e), e.station))
    ranked: list[Entry] = []
    for index, entry in enumerate(ordered):
        tied = index and _key(entry) == _key(ordered[index - 1])
        rank = ranked[-1].rank if tied else index + 1
        ranked.append(replace(entry, rank=rank, award=None))
    limits = cumulative_counts(len(ranked))
    result: list[Entry] = []
    for entry in ranked:
        award = None
        for (name, _), limit in zip(AWARDS, limits, strict=True):
            # Within a tier if the entry's rank (its first shared place) is inside the limit.
            if entry.rank <= limit:
                award = name
                break
        result.append(replace(entry, award=award))
    return result


def rank_all(entries: Sequence[Entry]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    return {group: rank_group(members) for group, members in sorted(groups.items())}
