"""The ranking rule, thrown every shape of group by hypothesis."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.results.ranking import Entry, cumulative_counts, rank_all, rank_group

marks = st.integers(min_value=0, max_value=40).map(lambda n: Decimal(n) / 2)
entries = st.lists(st.builds(lambda i, t, p, s: (i, t, p, s), st.integers(0, 999), marks, marks,
                             st.one_of(st.none(), st.integers(0, 3).map(float))),
                   min_size=1, max_size=40, unique_by=lambda x: x[0])


def _make(raw):
    return [Entry(f"A{i:03d}", "职工组", total + practical, practical, time)
            for i, total, practical, time in raw]


@given(entries)
def test_a_better_result_never_ranks_or_wins_worse(raw):
    ranked = rank_group(_make(raw))
    order = {"一等奖": 0, "二等奖": 1, "三等奖": 2, None: 3}

    def key(e):
        return (-e.total, -e.practical, e.time_used_s if e.time_used_s is not None else 1e9)

    for a in ranked:
        for b in ranked:
            if key(a) < key(b):
                assert a.rank < b.rank and order[a.award] <= order[b.award]
            if key(a) == key(b):
                assert a.rank == b.rank and a.award == b.award  # ties are never split


@given(entries)
def test_each_tier_covers_its_count_and_grows_only_by_a_tie_at_the_boundary(raw):
    ranked = rank_group(_make(raw))  # in rank order
    tiers = ("一等奖", "二等奖", "三等奖")
    for index, limit in enumerate(cumulative_counts(len(ranked))):
        awarded = [e for e in ranked if e.award in tiers[:index + 1]]
        assert len(awarded) >= limit
        for extra in awarded[limit:]:
            assert extra.rank == awarded[limit - 1].rank  # shares the boundary's place


def test_the_worked_example_of_docs():
    group = [Entry(f"A{i:02d}", "学生组", Decimal(100 - i), Decimal(50), float(i))
             for i in range(10)]
    ranked = rank_group(group)
    assert [e.award for e in ranked] == ["一等奖", "二等奖", "二等奖", "三等奖", "三等奖",
                                         "三等奖", None, None, None, None]
    assert cumulative_counts(10) == [1, 3, 6] and cumulative_counts(15) == [2, 5, 9]


def test_ties_break_on_practical_then_time_then_share_a_rank():
    a = Entry("A01", "职工组", Decimal("90.5"), Decimal(70), 600.0)
    b = Entry("A02", "职工组", Decimal("90.5"), Decimal(75), 900.0)
    c = Entry("A03", "职工组", Decimal("90.5"), Decimal(75), 800.0)
    d = Entry("A04", "职工组", Decimal("90.5"), Decimal(75), 800.0)
    ranked = rank_group([a, b, c, d])
    assert [(e.station, e.rank) for e in ranked] == [("A03", 1), ("A04", 1), ("A02", 3),
                                                     ("A01", 4)]


def test_groups_are_ranked_separately():
    entries = [Entry("A01", "职工组", Decimal(90), Decimal(60), None),
               Entry("B01", "学生组", Decimal(50), Decimal(30), None)]
    result = rank_all(entries)
    assert result["职工组"][0].rank == 1 and result["学生组"][0].rank == 1


@pytest.mark.parametrize(("size", "first", "second", "third"), [
    (1, 0, 0, 1),  # round(0.1) = 0, round(0.3) = 0, round(0.6) = 1
    (7, 1, 1, 2),  # 0.7 → 1, 2.1 → 2, 4.2 → 4
    (10, 1, 2, 3),
    (23, 2, 5, 7),  # 2.3 → 2, 6.9 → 7, 13.8 → 14
])
def test_tier_counts_for_groups_without_ties(size, first, second, third):
    group = [Entry(f"A{i:02d}", "职工组", Decimal(100 - i), Decimal(50), None)
             for i in range(size)]
    awards = [e.award for e in rank_group(group)]
    assert (awards.count("一等奖"), awards.count("二等奖"), awards.count("三等奖")) == (
        first, second, third)
    assert awards.count(None) == size - first - second - third


def test_a_tie_on_a_tier_boundary_moves_into_the_higher_tier_and_the_next_shrinks():
    # 10 contestants, places 1 and 2 tied on everything: both first prize (the tier grows to
    # 2), the second prize still ends at place 3 (it shrinks to 1), the third at place 6.
    group = [Entry(f"A{i:02d}", "学生组", Decimal(100 - max(i, 1)), Decimal(50), 60.0)
             for i in range(10)]
    ranked = rank_group(group)
    assert [e.rank for e in ranked[:3]] == [1, 1, 3]
    assert [e.award for e in ranked] == ["一等奖", "一等奖", "二等奖", "三等奖", "三等奖",
                                         "三等奖", None, None, None, None]
