"""The draw's pure rules: deterministic, fair, and recomputable by anyone."""

import hashlib
import hmac
import itertools
import os

import pytest

from kiosk.checkin import verifiable_draw as draw


def test_the_same_seed_and_entropy_give_the_same_result():
    seed = bytes(range(32))
    inputs, pool = ["b", "a", "c"], draw.number_pool(5)
    assert draw.assign(seed, "3 1 4", 1, inputs, pool) == draw.assign(seed, "3 1 4", 1,
                                                                      list(reversed(inputs)),
                                                                      pool)


def test_the_entropy_changes_the_result():
    seed = bytes(range(32))
    pool = draw.number_pool(30)
    inputs = [f"p{i:02d}" for i in range(30)]
    results = {tuple(draw.assign(seed, f"{roll}", 1, inputs, pool).values())
               for roll in range(1, 7)}
    assert len(results) == 6  # six dice faces, six different draws


def test_entropy_is_compared_as_people_type_it():
    seed = bytes(32)
    assert draw.assign(seed, " 3 5 1 ", 1, ["a", "b"], ["1", "2"]) == \
        draw.assign(seed, "3 5 1", 1, ["a", "b"], ["1", "2"])


def test_the_commitment_is_the_sha256_of_the_seed():
    seed = os.urandom(32)
    assert draw.commitment(seed) == hashlib.sha256(seed).hexdigest()


def test_every_assignment_is_equally_likely():
    """Over 2400 seeds, each of 4 contestants gets each of 4 numbers about 600 times:
    chi-square with 9 degrees of freedom stays below the 0.1 % critical value (27.88)."""
    inputs, pool = ["a", "b", "c", "d"], ["1", "2", "3", "4"]
    counts = {(i, p): 0 for i in inputs for p in pool}
    runs = 2400
    for n in range(runs):
        seed = hashlib.sha256(f"seed-{n}".encode()).digest()
        for who, number in draw.assign(seed, "6 6 6", 1, inputs, pool).items():
            counts[(who, number)] += 1
    expected = runs / len(pool)
    chi_square = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi_square < 27.88, counts


def test_which_pool_items_stay_free_is_uniform_too():
    """With a larger pool than people (absentees), every number is equally likely to be used."""
    pool = draw.number_pool(6)
    used = dict.fromkeys(pool, 0)
    runs = 1800
    for n in range(runs):
        seed = hashlib.sha256(f"s{n}".encode()).digest()
        for number in draw.assign(seed, "1", 1, ["x", "y", "z"], pool).values():
            used[number] += 1
    expected = runs * 3 / 6
    chi_square = sum((c - expected) ** 2 / expected for c in used.values())
    assert chi_square < 20.52  # 5 degrees of freedom, 0.1 %


def test_late_arrivals_take_the_rest_of_the_same_permutation():
    seed = os.urandom(32)
    pool = draw.number_pool(5)
    drawn = draw.assign(seed, "e", 1, ["a", "b", "c"], pool)
    order = draw.permutation(seed, "e", 1, pool)
    assert draw.remaining(seed, "e", 1, pool, set(drawn.values())) == order[3:]


def test_more_people_than_the_pool_is_refused():
    with pytest.raises(draw.DrawError):
        draw.assign(bytes(32), "e", 2, ["001", "002", "003"], ["A01", "A02"])


def _standalone_hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """RFC 5869 in five lines: what docs/draw.md tells a verifier to run."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_the_documented_standalone_recipe_gives_the_same_order():
    seed, entropy = os.urandom(32), "4 2 6 1"
    pool = draw.number_pool(12)
    by_recipe = sorted(pool, key=lambda item: _standalone_hkdf(
        seed + entropy.encode(), b"kiosk-draw-v1", f"stage1|{item}".encode()))
    assert by_recipe == draw.permutation(seed, entropy, 1, pool)


def test_permutations_of_a_small_pool_all_occur():
    pool = ["A01", "A02", "A03"]
    seen = {tuple(draw.permutation(hashlib.sha256(bytes([n])).digest(), "", 2, pool))
            for n in range(200)}
    assert seen == set(itertools.permutations(pool))
