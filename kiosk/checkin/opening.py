"""Opening a sealed draw (逐层解密) and recomputing it: the judges' side of the seal.

Each opened stage is checked against what was printed and what the server may not choose: the
ciphertext's SHA-256, the seed against the commitment, the whole draw recomputed from seed and
entropy, and every late draw after the seal recomputed from the seed in its own supplement.
That last check proves a late arrival took from exactly the free items in that seed's order; the
seed itself is the server's alone (no public entropy binds it: docs/draw.md, step 4).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pyrage
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.checkin import verifiable_draw as rules
from kiosk.checkin.draw_stages import current_round
from kiosk.checkin.models import SealedSupplement
from kiosk.errors import N_, Conflict


@dataclass
class OpenedStage:
    stage: int
    round_id: int
    sealed_sha256: str
    commitment: str | None
    entropy: str | None
    method: str
    assignments: list[dict]
    problems: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems


def open_stage(session: Session, stage: int, identities: list) -> OpenedStage | None:
    """Decrypt a sealed stage (and its supplements) and recompute it; None if no identity
    given opens it."""
    round_ = current_round(session, stage)
    if round_ is None or round_.status != "sealed" or round_.ciphertext is None:
        raise Conflict(N_("Stage %(stage)s is not sealed."), stage=stage)
    try:
        document = json.loads(pyrage.decrypt(round_.ciphertext, identities))
    except pyrage.DecryptError:
        return None
    problems: list[str] = []
    if hashlib.sha256(round_.ciphertext).hexdigest() != round_.ciphertext_sha256:
        problems.append("the sealed record's SHA-256 does not match the one printed")
    assignments = list(document["assignments"])
    supplements = [json.loads(pyrage.decrypt(supplement.ciphertext, identities))
                   for supplement in session.scalars(
                       select(SealedSupplement).where(SealedSupplement.round_id == round_.id)
                       .order_by(SealedSupplement.id))]
    for extra in supplements:
        assignments.extend(extra["assignments"])
    problems += _check_late_draws(stage, document, supplements)
    if document["method"] == "computer":
        seed = bytes.fromhex(document["seed"])
        if rules.commitment(seed) != document["commitment"] or \
                document["commitment"] != round_.commitment:
            problems.append("the seed does not match the printed commitment")
        key, value = ("id_number", "contestant_no") if stage == 1 else ("contestant_no",
                                                                         "station")
        recomputed = rules.assign(seed, document["entropy"], stage, document["inputs"],
                                  document["pool"])
        stored = {a[key]: a[value] for a in document["assignments"] if not a["late"]}
        if recomputed != stored:
            problems.append("recomputing the draw from seed and entropy gives another result")
        free = rules.remaining(seed, document["entropy"], stage, document["pool"],
                               set(stored.values()))
        # Each late arrival before the seal took the next free item of the round's order, so k
        # of them hold exactly the first k (and so did those after the seal, in supplements
        # written before every late draw had its own seed).
        late = {a[value] for a in document["assignments"] if a["late"]}
        late |= {a[value] for extra in supplements if "seed" not in extra
                 for a in extra["assignments"]}
        if late != set(free[:len(late)]):
            problems.append("late arrivals did not take the next free items in order")
    return OpenedStage(stage, round_.id, round_.ciphertext_sha256, document["commitment"],
                       document["entropy"], document["method"], assignments, problems)


def _check_late_draws(stage: int, document: dict, supplements: list[dict]) -> list[str]:
    """Each late draw after the seal, recomputed from its own seed: it took the first item of
    its free items ordered by the draw's recipe, and those were exactly the pool's items nobody
    held yet."""
    value = "contestant_no" if stage == 1 else "station"
    taken = {a[value] for a in document["assignments"]}
    problems: list[str] = []
    for number, extra in enumerate(supplements, start=1):
        (pair,) = extra["assignments"]
        if "seed" in extra:
            free = extra["free"]
            expected = sorted(item for item in document["pool"] if item not in taken)
            if sorted(free) != expected:
                problems.append(f"late draw {number} did not draw from exactly the free items")
            order = rules.permutation(bytes.fromhex(extra["seed"]), "", stage, free)
            if not order or order[0] != pair[value]:
                problems.append(f"late draw {number}: recomputing it gives another item")
        elif pair[value] in taken:
            problems.append(f"late draw {number} took an item that was taken already")
        taken.add(pair[value])
    return problems
