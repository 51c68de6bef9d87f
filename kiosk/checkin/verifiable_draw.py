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

Stage 1's pool is the contestant numbers 001…P (P = roster size, at least 3 digits); stage 2's
pool is the codes of the stations that are not spare, sorted. docs/draw.md shows the same
computation in a few lines of standalone Python.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

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


def rank_key(seed: bytes, entropy: str, stage: int, item: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ALGORITHM.encode("ascii"),
                info=f"stage{stage}|{item}".encode())
    return hkdf.derive(seed + canonical_entropy(entropy).encode("utf-8"))


def permutation(seed: bytes, entropy: str, stage: int, pool: Sequence[str]) -> list[str]:
    if len(set(pool)) != len(pool):
        raise DrawError("the pool has duplicates")
    return sorted(pool, key=lambda item: rank_key(seed, entropy, stage, item))


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


def number_pool(size: int) -> list[str]:
    width = max(3, len(str(size)))
    return [f"{n:0{width}d}" for n in range(1, size + 1)]
