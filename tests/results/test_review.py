"""复核: the sample's proportions, its recorded seed, and the 5 % rule."""

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import clock
from kiosk.db import write_transaction
from kiosk.errors import Conflict, KioskError, NotReady
from kiosk.results import review, submission, totals
from tests.actors import CHIEF, SUPERVISOR
from tests.plugins.results import WEIGHT

totals_strategy = st.dictionaries(
    st.from_regex(r"[A-Z][0-9]{2}", fullmatch=True),
    st.integers(0, 40).map(lambda n: Decimal(n) / 4), min_size=1, max_size=120)


@given(totals_strategy, st.binary(min_size=32, max_size=32))
def test_the_sample_is_the_top_30_percent_and_15_percent_of_the_rest(station_totals, seed):
    top, chosen = review.choose_sample(station_totals, seed)
    count = len(station_totals)
    ranked = sorted(station_totals.values(), reverse=True)
    threshold = ranked[math.ceil(count * 0.3) - 1]
    # Everyone in the top 30 %, ties on its last place included, and nobody else.
    assert set(top) == {code for code, total in station_totals.items() if total >= threshold}
    assert len(top) >= math.ceil(count * 0.3)
    rest = count - len(top)
    assert len(chosen) == math.ceil(rest * 15 / 100) and not set(chosen) & set(top)
    assert len(chosen) >= rest * 0.15
    # The recorded seed gives the same sample again.
    assert review.choose_sample(station_totals, seed) == (top, chosen)


def test_another_seed_samples_other_stations():
    station_totals = {f"A{i:03d}": Decimal(i % 7) for i in range(200)}
    samples = {tuple(review.choose_sample(station_totals, bytes([n]) * 32)[1])
               for n in range(5)}
    assert len(samples) == 5


@pytest.mark.parametrize(("wrong", "reviewed", "escalate"), [
    (0, 6, False), (1, 20, False), (2, 40, False), (1, 19, True), (2, 20, True), (1, 1, True)])
def test_more_than_5_percent_wrong_means_reviewing_everything(wrong, reviewed, escalate):
    assert review.needs_full_review(wrong, reviewed) is escalate


def _draw(day):
    return review.draw_sample(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())


def test_the_sample_waits_for_every_total(day):
    day.marks(dict.fromkeys(day.stations[:-1], "70"))
    with pytest.raises(NotReady) as excinfo:
        _draw(day)
    assert day.stations[-1] in excinfo.value.problems[0].render()


def test_the_recorded_seed_reproduces_the_sample(day):
    marks = {code: str(50 + index) for index, code in enumerate(day.stations)}
    day.marks(marks)
    sample = _draw(day)
    results = totals.live_results(day.session, theory_weight=WEIGHT, now=clock.now())
    top, chosen = review.choose_sample({r.station: r.total for r in results},
                                       bytes.fromhex(sample.seed))
    assert {code: item.why for item, code in review.items(day.session)} == {
        **dict.fromkeys(top, "top"), **dict.fromkeys(chosen, "random")}
    # 12 stations: the top 4 (30 % rounded up) and 2 of the other 8 (15 % rounded up).
    assert (sample.population, sample.top_count, sample.random_count) == (12, 4, 2)


def test_a_clean_review_allows_the_lock(day):
    day.marks(dict.fromkeys(day.stations, "70"))
    _draw(day)
    with pytest.raises(NotReady, match="cannot be locked"):
        submission.lock(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    for _, code in review.items(day.session):
        review.record_outcome(day.session, code, correct=True, actor=SUPERVISOR,
                              now=clock.now())
    assert review.progress(day.session).total == 6  # no escalation
    lock = submission.lock(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    assert len(lock.sha256) == 64
    with pytest.raises(Conflict, match="locked"):
        review.record_outcome(day.session, day.stations[0], correct=True, actor=SUPERVISOR,
                              now=clock.now())


def test_errors_over_5_percent_put_every_station_under_review(day):
    day.marks(dict.fromkeys(day.stations, "70"))
    _draw(day)
    sampled = [code for _, code in review.items(day.session)]
    wrong = sampled[0]
    with pytest.raises(KioskError, match="mark it should be"):
        review.record_outcome(day.session, wrong, correct=False, note="漏计一项",
                              actor=SUPERVISOR, now=clock.now())
    review.record_outcome(day.session, wrong, correct=False, mark=Decimal(72), note="漏计一项",
                          actor=SUPERVISOR, now=clock.now())
    for code in sampled[1:]:
        review.record_outcome(day.session, code, correct=True, actor=SUPERVISOR,
                              now=clock.now())
    state = review.progress(day.session)
    # 1 of 6 wrong (17 %): every one of the 12 stations is now to be reviewed.
    assert state.sample.full_review and state.total == 12 and state.pending == 6
    with pytest.raises(NotReady) as excinfo:
        submission.lock(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    rendered = " ".join(p.render() for p in excinfo.value.problems)
    assert "6 stations are still to be reviewed" in rendered
    assert "1 reported errors" in rendered
    # The reported error counts only once the chief judge corrects it.
    review.correct(day.session, wrong, Decimal(72), "复核发现漏计", actor=CHIEF, now=clock.now())
    for item, code in review.items(day.session):
        if item.status == "pending":
            review.record_outcome(day.session, code, correct=True, actor=SUPERVISOR,
                                  now=clock.now())
    submission.lock(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    locked = {r.station: r for r in totals.locked_results(day.session)[1]}
    assert locked[wrong].practical == Decimal(72)
    assert locked[sampled[1]].practical == Decimal(70)


def test_the_locked_copy_does_not_move(day):
    day.marks(dict.fromkeys(day.stations, "70"))
    _draw(day)
    for _, code in review.items(day.session):
        review.record_outcome(day.session, code, correct=True, actor=SUPERVISOR,
                              now=clock.now())
    lock = submission.lock(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    # Even a change behind the service's back does not reach the locked results.
    from kiosk.theory_exam.models import Sitting

    with write_transaction(day.session):
        for sitting in day.session.query(Sitting):
            sitting.score = Decimal(0)
    after = totals.results(day.session, theory_weight=WEIGHT, now=clock.now())
    assert all(r.theory > 0 for r in after)
    assert totals.locked_results(day.session)[0].sha256 == lock.sha256
