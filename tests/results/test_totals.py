"""Totals: theory converted to its weight, plus practical, minus deductions; exact decimals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import clock, numbers
from kiosk.errors import Conflict, KioskError
from kiosk.results import arithmetic, deductions, totals
from tests.actors import CHIEF
from tests.plugins.results import WEIGHT, Day

D = Decimal


@pytest.mark.parametrize(("theory", "full", "practical", "deductions", "expected"), [
    # 87/100 × 15 = 13.05 exactly: no binary float error (13.049999… would round to 13.04).
    (D(87), D(100), D("72.5"), [], (D("13.05"), D(0), D("85.55"))),
    # 1/3 × 15 = 5 after rounding the weighted theory once; 2/3 × 15 = 10.
    (D(33), D(99), D(0), [], (D("5.00"), D(0), D("5.00"))),
    (D(66), D(99), D("0.01"), [], (D("10.00"), D(0), D("10.01"))),
    # 0.5 rounds half up: 1/200 × 15 = 0.075 → 0.08.
    (D(1), D(200), D(0), [], (D("0.08"), D(0), D("0.08"))),
    # 5 % of (13.05 + 72.50) = 4.2775 → 4.28; total 81.27.
    (D(87), D(100), D("72.5"), [("percent", D(5))], (D("13.05"), D("4.28"), D("81.27"))),
    # Percent and points together: 10 % of 100 = 10, plus 2 points.
    (D(100), D(100), D(85), [("percent", D(10)), ("points", D(2))],
     (D("15.00"), D(12), D("88.00"))),
    # Never below zero.
    (D(0), D(100), D(1), [("points", D(5))], (D(0), D(5), D(0))),
])
def test_totals_with_tricky_decimals(theory, full, practical, deductions, expected):
    result = arithmetic.compute_total(theory, full, WEIGHT, practical, deductions)
    assert (result.theory_weighted, result.deduction, result.total) == expected
    assert result.total == result.total.quantize(D("0.01"))


@given(st.integers(0, 10000), st.integers(1, 10000), st.integers(0, 8500))
def test_the_total_is_the_parts_to_the_cent(score, full, practical):
    theory, full, mark = D(score) / 100, D(full) / 100, D(practical) / 100
    result = arithmetic.compute_total(theory, full, WEIGHT, mark, [])
    assert result.total == result.theory_weighted + mark
    assert abs(result.theory_weighted - theory / full * WEIGHT) <= D("0.005")


def test_the_weight_is_configurable():
    result = arithmetic.compute_total(D(80), D(100), D(30), D(50), [])
    assert result.theory_weighted == D(24) and result.total == D(74)
    assert arithmetic.compute_total(D(80), D(100), D(0), D(50), []).total == D(50)


@pytest.mark.parametrize(("text", "parsed"), [
    ("5%", ("percent", D(5))), ("7.5 %", ("percent", D("7.5"))), ("10％", ("percent", D(10))),
    ("2", ("points", D(2))), ("0", None), ("-1", None), ("101%", None), ("abc", None),
    ("1.234", None), ("", None)])
def test_deductions_are_a_share_or_points(text, parsed):
    assert numbers.parse_deduction(text) == parsed


def _results(day):
    return {r.station: r for r in totals.live_results(day.session, theory_weight=WEIGHT,
                                                      now=clock.now())}


def test_station_results_combine_theory_marks_and_deductions(day):
    first, second = day.stations[:2]
    day.marks({first: "72.5", second: "60"})
    results = _results(day)
    assert results[first].theory == D(60) and results[first].theory_weighted == D(9)
    assert results[first].total == D("81.5")
    # No practical mark yet for the others: no total, and the reason is given.
    assert results[day.stations[2]].total is None
    assert results[day.stations[2]].problems == ("no agreed practical mark",)
    deductions.add_deduction(day.session, first, "10%", "损坏设备", "裁判长王某", actor=CHIEF,
                             now=clock.now())
    assert _results(day)[first].deduction == D("8.15")
    assert _results(day)[first].total == D("73.35")


def test_a_disputed_mark_has_no_total(day):
    code = day.stations[0]
    day.marks({code: "70"}, entry=1)
    day.marks({code: "71"}, entry=2)
    assert _results(day)[code].total is None


def test_a_deduction_needs_a_reason_and_an_approver(day):
    with pytest.raises(KioskError, match="reason"):
        deductions.add_deduction(day.session, day.stations[0], "5%", "", "王某", actor=CHIEF,
                                 now=clock.now())
    with pytest.raises(KioskError, match="reason"):
        deductions.add_deduction(day.session, day.stations[0], "5%", "违规", " ", actor=CHIEF,
                                 now=clock.now())
    with pytest.raises(KioskError, match="not a deduction"):
        deductions.add_deduction(day.session, day.stations[0], "五", "违规", "王某", actor=CHIEF,
                                 now=clock.now())


def test_the_theory_exam_must_be_over_before_totals(event):
    day = Day(event, {}, [])
    day.marks({"A01": "50"})
    result = _results(day)["A01"]
    assert result.total is None and "the theory exam has not ended" in result.problems


def test_marks_are_frozen_once_the_review_sample_is_drawn(day):
    from kiosk.results import mark_entry, review

    day.marks(dict.fromkeys(day.stations, "70"))
    review.draw_sample(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    with pytest.raises(Conflict, match="review"):
        day.marks({day.stations[0]: "71"}, entry=1)
    with pytest.raises(Conflict, match="review"):
        mark_entry.resolve(day.session, day.stations[0], D(1), "x", actor=CHIEF, now=clock.now())
    with pytest.raises(Conflict, match="review"):
        deductions.add_deduction(day.session, day.stations[0], "5%", "违规", "王某", actor=CHIEF,
                                 now=clock.now())


def test_an_extended_station_keeps_the_theory_exam_open_for_the_totals(event):
    import time

    from kiosk.stations import phases

    event.checkin()
    phases.start(event.session, "theory", 0.01, actor=CHIEF, now=clock.now())  # 0.6 s
    phases.extend(event.session, "A01", 10, "主机死机", actor=CHIEF, now=clock.now())
    time.sleep(0.8)  # the phase has run out; A01 still has ten minutes
    assert not totals.theory_over(event.session, clock.now())
    assert not totals.theory_over(event.session, clock.now() + timedelta(minutes=9))
    assert totals.theory_over(event.session, clock.now() + timedelta(minutes=11))
    # An explicit end stops everyone, extensions included.
    phases.end(event.session, "theory", actor=CHIEF, now=clock.now())
    assert totals.theory_over(event.session, clock.now())


def test_a_theory_exam_that_ran_out_is_over_without_an_explicit_end(event):
    from kiosk.stations import phases

    # At given moments, not by sleeping past 0.6 s (it failed once on a loaded PostgreSQL run).
    started = clock.now()
    phases.start(event.session, "theory", 0.01, actor=CHIEF, now=started)
    assert not totals.theory_over(event.session, started + timedelta(seconds=0.3))
    assert totals.theory_over(event.session, started + timedelta(seconds=0.8))
