"""The ranking rule, thrown every shape of group by hypothesis."""

from decimal import Decimal

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
