"""The session draw's pure rules (verifiable_draw.place_in_sessions): everyone placed in a
session of their group within capacity, or refused whole; as even as the capacities allow;
every contestant equally likely to land in each session."""

import hashlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.checkin import verifiable_draw as rules

GROUPS = ("学生组", "职工组", "教师组")

slots_strategy = st.lists(
    st.tuples(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
              st.integers(min_value=0, max_value=12)),
    min_size=1, max_size=4)
roster_strategy = st.lists(st.sampled_from(GROUPS), max_size=30)


def _slots(spec):
    return [rules.Slot(f"S{n}", tuple(groups), capacity) for n, (groups, capacity)
            in enumerate(spec)]


@settings(max_examples=150, deadline=None)
@given(slots_strategy, roster_strategy, st.binary(min_size=32, max_size=32))
def test_everyone_is_placed_in_an_admitting_session_within_capacity_or_refused(spec, groups,
                                                                               seed):
    slots = _slots(spec)
    people = {f"p{n:03d}": group for n, group in enumerate(groups)}
    try:
        placed = rules.place_in_sessions(seed, "1", people, slots)
    except rules.SessionsTooSmall as refused:
        problem = refused.problem
        assert problem.contestants > problem.capacity
        assert problem.contestants == sum(1 for g in people.values() if g in problem.groups)
        return
    assert set(placed) == set(people)
    by_code = {s.code: s for s in slots}
    for person, code in placed.items():
        assert by_code[code].admits(people[person])
    for slot in slots:
        assert list(placed.values()).count(slot.code) <= slot.capacity
    assert rules.place_in_sessions(seed, "1", people, slots) == placed  # deterministic


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=15), min_size=1, max_size=4),
       roster_strategy, st.binary(min_size=32, max_size=32))
def test_sessions_open_to_everyone_are_filled_in_proportion_to_capacity(capacities, groups,
                                                                         seed):
    """No session is fuller, in proportion, than another would be with one more: for every
    pair s, t where t has room, load(s)/cap(s) <= (load(t) + 1)/cap(t)."""
    slots = [rules.Slot(f"S{n}", (), c) for n, c in enumerate(capacities)]
    people = {f"p{n:03d}": group for n, group in enumerate(groups)}
    if len(people) > sum(capacities):
        with pytest.raises(rules.SessionsTooSmall):
            rules.place_in_sessions(seed, "1", people, slots)
        return
    placed = list(rules.place_in_sessions(seed, "1", people, slots).values())
    load = {s.code: placed.count(s.code) for s in slots}
    for s in slots:
        for t in slots:
            if load[t.code] < t.capacity:
                assert Fraction(load[s.code], s.capacity) <= \
                    Fraction(load[t.code] + 1, t.capacity)


def test_every_contestant_is_equally_likely_in_each_session():
    """4 contestants, two sessions of 2: over 1200 seeds each is in AM about 600 times
    (chi-square over the 8 cells, 3 degrees of freedom: below the 0.1 % critical value,
    16.27)."""
    people = dict.fromkeys("abcd", "职工组")
    slots = [rules.Slot("AM", (), 2), rules.Slot("PM", (), 2)]
    in_am = dict.fromkeys(people, 0)
    runs = 1200
    for n in range(runs):
        seed = hashlib.sha256(f"session-{n}".encode()).digest()
        for person, code in rules.place_in_sessions(seed, "6 6", people, slots).items():
            in_am[person] += code == "AM"
    expected = runs / 2
    # Each person's AM and PM cells deviate by the same amount.
    chi_square = sum(2 * (c - expected) ** 2 / expected for c in in_am.values())
    assert chi_square < 16.27, in_am


def test_the_session_draw_has_its_own_label():
    seed = bytes(range(32))
    assert rules.label_key(seed, "e", "session", "x") != rules.rank_key(seed, "e", 1, "x")
    assert rules.rank_key(seed, "e", 1, "x") == rules.label_key(seed, "e", "stage1", "x")
