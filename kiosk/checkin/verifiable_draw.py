"""The verifiable draw, as pure functions (no database): anyone can recompute it.

In the spirit of RFC 3797. Before the draw the server picks a secret 256-bit `seed` and shows its
SHA-256 (the commitment). Then a supervisor enters public `entropy` (dice rolls, in order). The
result depends on both, so neither the server (which committed before knowing the entropy) nor the
supervisor (who does not know the seed) controls it.

    ikm      = seed ‖ UTF-8(NFC(entropy))
    key(x)   = HKDF-SHA256(ikm, salt = "kiosk-draw-v1", info = "stage<N>|" ‖ x, length 32)
    order    = the pool sorted by key(item)             (a uniformly random permutation)
    inputs   = stage 1: the checked-in ID numbers, sorted;  stage 2: contestant numbers, sorted
    result   = inputs[i] → order[i];  late arrivals take order[len(inputs)], order[…+1], …

After the seal the seed is erased: each late arrival then takes the first item of the free items
ordered the same way with a fresh seed and empty entropy (`permutation(late_seed, "", …)`), the
seed being kept only in their sealed supplement.

Stage 1's pool is the contestant numbers 001…P (P = roster size, at least 3 digits; with several
sessions, each session's own range after the earlier sessions'); stage 2's pool is the codes of
the stations that are not spare, sorted. The session draw (kiosk.checkin.session_draw) ranks the
roster with the label "session" and places it by `place_in_sessions`. docs/draw.md shows the same
computation in a few lines of standalone Python.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "kiosk-draw-v1"
SEED_BYTES = 32


class DrawError(ValueError):
    pass


def commitment(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def canonical_entropy(entropy: str) -> str:
    # NFC and trimmed: the same dice rolls typed on two keyboards give the same bytes.
    return unicodedata.normalize("NFC", entropy).strip()


def label_key(seed: bytes, entropy: str, label: str, item: str) -> bytes:
    """HKDF-SHA256(seed ‖ entropy, salt = ALGORITHM, info = label|item): the rank of `item` in
    the draw called `label` ("stage1", "stage2", "session")."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ALGORITHM.encode("ascii"),
                info=f"{label}|{item}".encode())
    return hkdf.derive(seed + canonical_entropy(entropy).encode("utf-8"))


def rank_key(seed: bytes, entropy: str, stage: int, item: str) -> bytes:
    return label_key(seed, entropy, f"stage{stage}", item)


def ranking(seed: bytes, entropy: str, label: str, items: Sequence[str]) -> list[str]:
    """`items` in the order of their keys: a uniformly random permutation."""
    if len(set(items)) != len(items):
        raise DrawError("the pool has duplicates")
    return sorted(items, key=lambda item: label_key(seed, entropy, label, item))


def permutation(seed: bytes, entropy: str, stage: int, pool: Sequence[str]) -> list[str]:
    return ranking(seed, entropy, f"stage{stage}", pool)


def assign(seed: bytes, entropy: str, stage: int, inputs: Sequence[str],
           pool: Sequence[str]) -> dict[str, str]:
    """inputs (sorted canonically here) → pool items, as the module docstring says."""
    ordered_inputs = sorted(inputs)
    if len(set(ordered_inputs)) != len(ordered_inputs):
        raise DrawError("the inputs have duplicates")
    if len(ordered_inputs) > len(pool):
        raise DrawError(f"{len(ordered_inputs)} to draw but only {len(pool)} in the pool")
    order = permutation(seed, entropy, stage, pool)
    return dict(zip(ordered_inputs, order, strict=False))


def remaining(seed: bytes, entropy: str, stage: int, pool: Sequence[str],
              used: set[str]) -> list[str]:
    """What late arrivals draw from, in the order they get it."""
    return [item for item in permutation(seed, entropy, stage, pool) if item not in used]


def number_pool(size: int, *, offset: int = 0, total: int | None = None) -> list[str]:
    """The contestant numbers offset+1 … offset+size, as wide as the event's largest (`total`,
    the whole roster; at least 3 digits): each session's numbers follow the earlier sessions'
    (docs/draw.md), so that a number is unique across the event."""
    width = max(3, len(str(total if total is not None else offset + size)))
    return [f"{n:0{width}d}" for n in range(offset + 1, offset + size + 1)]


# ----------------------------------------------------------------------------- the session draw

SESSION_LABEL = "session"


@dataclass(frozen=True)
class Slot:
    """A session as the session draw sees it: its code, the groups it admits (empty: every
    group) and how many it takes."""

    code: str
    groups: tuple[str, ...]
    capacity: int

    def admits(self, group: str) -> bool:
        return not self.groups or group in self.groups


@dataclass(frozen=True)
class Shortfall:
    """Groups that need more room than every session open to any of them has (Hall's
    condition fails): the session draw cannot place everyone."""

    groups: tuple[str, ...]
    contestants: int
    sessions: tuple[str, ...]
    capacity: int


def shortfall(need: dict[str, int], slots: Sequence[Slot],
              free: dict[str, int]) -> Shortfall | None:
    """The first set of groups (fewest groups first, names in order) whose contestants
    outnumber the free places of the sessions open to any of them; None if everyone fits.
    By Hall's theorem everyone can be placed exactly when no such set exists."""
    groups = sorted(g for g, n in need.items() if n > 0)
    for size in range(1, len(groups) + 1):
        for subset in itertools.combinations(groups, size):
            open_to = [s for s in slots if any(s.admits(g) for g in subset)]
            room = sum(free[s.code] for s in open_to)
            wanted = sum(need[g] for g in subset)
            if wanted > room:
                return Shortfall(subset, wanted, tuple(s.code for s in open_to), room)
    return None


class SessionsTooSmall(DrawError):
    def __init__(self, problem: Shortfall) -> None:
        super().__init__(f"{'、'.join(problem.groups)}: {problem.contestants} contestants, "
                         f"sessions {', '.join(problem.sessions) or '—'} hold "
                         f"{problem.capacity}")
        self.problem = problem


def place_in_sessions(seed: bytes, entropy: str, people: dict[str, str],
                      slots: Sequence[Slot]) -> dict[str, str]:
    """The session draw: ID number → session code, for `people` (ID number → group).

    The roster is ranked by HKDF with the label "session". Group by group (names in order),
    each contestant in rank order goes to the session that, among those admitting their group
    that have room and leave room for everyone still to be placed (`shortfall`), is least full
    in proportion once they are in: the lowest (load + 1) / capacity, the earlier session of
    the day on a tie. Refused whole (SessionsTooSmall) when everyone cannot be placed."""
    need = Counter(people.values())
    free = {s.code: s.capacity for s in slots}
    problem = shortfall(need, slots, free)
    if problem is not None:
        raise SessionsTooSmall(problem)
    load = dict.fromkeys(free, 0)
    ranked = ranking(seed, entropy, SESSION_LABEL, sorted(people))
    placed: dict[str, str] = {}
    for group in sorted(need):
        for id_number in (p for p in ranked if people[p] == group):
            need[group] -= 1
            candidates = sorted((s for s in slots if s.admits(group) and free[s.code] > 0),
                                key=lambda s: (Fraction(load[s.code] + 1, s.capacity),
                                               slots.index(s)))
            for slot in candidates:
                free[slot.code] -= 1
                if shortfall(need, slots, free) is None:
                    break
                free[slot.code] += 1
            else:  # cannot happen: the first shortfall check holds at every step
                raise DrawError(f"no session left for {group}")
            load[slot.code] += 1
            placed[id_number] = slot.code
    return placed
