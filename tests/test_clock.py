"""The timing rules every writer asks: pure, so hypothesis can throw any timeline at them."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kiosk.clock import (
    Extension,
    Phase,
    has_started,
    may_write,
    over_for_everyone,
    phase_state,
    refusal,
    seconds_used,
    station_deadline,
    station_state,
)
from tests.plugins.theory_exam import GRACE

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
minutes = st.floats(min_value=0.5, max_value=300, allow_nan=False)
offsets = st.floats(min_value=-600, max_value=24_000, allow_nan=False)


def running(length_min: float) -> Phase:
    return Phase("theory", T0, T0 + timedelta(minutes=length_min))


@given(minutes, offsets)
def test_writing_is_allowed_exactly_until_the_deadline_plus_grace(length, offset_s):
    phase = running(length)
    now = T0 + timedelta(seconds=offset_s)
    end = T0 + timedelta(minutes=length)
    assert may_write(phase, [], now, GRACE) == (T0 <= now <= end + GRACE)


@given(minutes, st.lists(st.floats(min_value=1, max_value=60), max_size=3), offsets)
def test_extensions_move_only_that_stations_deadline(length, extra, offset_s):
    phase = running(length)
    now = T0 + timedelta(seconds=offset_s)
    mine = [Extension(m) for m in extra]
    assert station_deadline(phase, mine, now) == phase.ends_at + timedelta(minutes=sum(extra))
    assert station_deadline(phase, [], now) == phase.ends_at


@given(minutes, st.floats(min_value=0, max_value=600), st.floats(min_value=0, max_value=3600))
def test_a_pause_refuses_writes_and_moves_the_end_by_its_length(length, pause_at_s, held_s):
    start_pause = T0 + timedelta(seconds=pause_at_s)
    now = start_pause + timedelta(seconds=held_s)
    paused = Phase("theory", T0, T0 + timedelta(minutes=length), paused_at=start_pause)
    assert phase_state(paused, now) == "paused"
    assert not may_write(paused, [], now, GRACE)
    assert station_deadline(paused, [], now) == paused.ends_at + (now - start_pause)


@given(minutes, st.floats(min_value=0, max_value=3600), st.lists(
    st.floats(min_value=1, max_value=60), max_size=2))
def test_an_explicit_end_stops_everyone_at_once(length, ended_after_s, extra):
    ended = T0 + timedelta(seconds=ended_after_s)
    phase = Phase("theory", T0, T0 + timedelta(minutes=length), ended_at=ended)
    later = ended + GRACE + timedelta(milliseconds=1)
    assert not may_write(phase, [Extension(m) for m in extra], later, GRACE)


def test_nothing_is_written_before_the_start_or_without_a_phase():
    phase = Phase("theory", T0, T0 + timedelta(minutes=20))
    assert phase_state(phase, T0 - timedelta(seconds=1)) == "scheduled"
    assert not may_write(phase, [], T0 - timedelta(seconds=1), GRACE)
    assert not may_write(None, [], T0, GRACE)
    assert phase_state(None, T0) == "not_started"


def test_time_used_leaves_out_the_pauses():
    phase = running(20)
    pauses = [(T0 + timedelta(minutes=5), T0 + timedelta(minutes=8))]
    assert seconds_used(phase, pauses, T0 + timedelta(minutes=12)) == 9 * 60
    assert seconds_used(phase, [(T0 + timedelta(minutes=5), None)],
                        T0 + timedelta(minutes=7)) == 5 * 60


@given(minutes, st.lists(st.floats(min_value=1, max_value=60), max_size=3), offsets)
def test_a_station_has_ended_exactly_when_its_own_deadline_passed(length, extra, offset_s):
    """What its screen shows (issue 15): the end at its own deadline, extensions included,
    while the phase itself still runs for the others."""
    phase = running(length)
    now = T0 + timedelta(seconds=offset_s)
    mine = [Extension(m) for m in extra]
    deadline = station_deadline(phase, mine, now)
    expected = "scheduled" if now < T0 else "ended" if now >= deadline else "running"
    assert station_state(phase, mine, now) == expected
    ended = Phase("theory", T0, T0 + timedelta(minutes=length), ended_at=T0)
    assert station_state(ended, mine, T0 + timedelta(seconds=abs(offset_s))) == "ended"


# ----------------------------------------------------------------------------- any timeline
# Phases as the services leave them: not started, or started (maybe in the future: scheduled),
# with an end, maybe paused since, maybe ended explicitly.

seconds = st.floats(min_value=0, max_value=20_000, allow_nan=False)
station_extensions = st.lists(st.lists(st.floats(min_value=1, max_value=60), max_size=3)
                              .map(lambda found: [Extension(m) for m in found]), max_size=4)


@st.composite
def timelines(draw) -> Phase | None:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, Phase("theory")]))
    length = draw(minutes)
    paused_at = draw(st.none() | seconds.map(lambda s: T0 + timedelta(seconds=s)))
    ended_at = draw(st.none() | seconds.map(lambda s: T0 + timedelta(seconds=s)))
    return Phase("theory", T0, T0 + timedelta(minutes=length), paused_at=paused_at,
                 ended_at=ended_at)


moments = offsets.map(lambda s: T0 + timedelta(seconds=s))


@given(timelines(), station_extensions.map(lambda all_of: all_of[0] if all_of else []), moments)
def test_a_refusal_says_why_in_the_words_of_the_stations_screen(phase, mine, now):
    """One rule, one set of words: the reason a write is refused is the station's state."""
    refused = refusal(phase, mine, now, GRACE)
    assert may_write(phase, mine, now, GRACE) == (refused is None)
    assert refused in (None, "not_started", "scheduled", "paused", "ended")
    if refused is not None:
        assert refused == station_state(phase, mine, now)
    if station_state(phase, mine, now) == "running":
        assert refused is None
    assert (refused in ("not_started", "scheduled")) == (not has_started(phase, now))


@given(timelines(), moments, seconds)
def test_a_phase_has_started_from_its_start_on_and_stays_started(phase, now, later_s):
    started = has_started(phase, now)
    if phase is None or phase.starts_at is None:
        assert not started
    elif phase.ended_at is not None and phase.ended_at <= now:
        assert started  # ended is started
    else:
        assert started == (now >= phase.starts_at)
    if started:
        assert has_started(phase, now + timedelta(seconds=later_s))


@given(timelines(), station_extensions, moments)
def test_over_for_everyone_is_every_stations_part_ended(phase, by_station, now):
    """Exactly when every station's screen says ended: the ones with extensions and the
    ones without (who end with the phase)."""
    over = over_for_everyone(phase, by_station, now)
    assert over == all(station_state(phase, mine, now) == "ended" for mine in [[], *by_station])
    if not has_started(phase, now):
        assert not over  # never over before the start
    if phase is not None and phase.ended_at is not None and phase.ended_at <= now:
        assert over  # an explicit end is the end for everyone, extensions included
    if over:
        for mine in [[], *by_station]:
            assert not may_write(phase, mine, now + GRACE + timedelta(milliseconds=1), GRACE)


@given(timelines(), station_extensions, moments, seconds)
def test_a_pause_never_makes_it_over(phase, by_station, now, paused_s):
    if phase is None or phase.starts_at is None:
        return
    paused = Phase(phase.name, phase.starts_at, phase.ends_at,
                   paused_at=T0 + timedelta(seconds=paused_s), ended_at=phase.ended_at)
    if phase.ended_at is None or phase.ended_at > now:
        assert not over_for_everyone(paused, by_station, now)
    else:
        assert over_for_everyone(paused, by_station, now)


@given(timelines(), station_extensions, moments, seconds)
def test_once_over_for_everyone_it_stays_over(phase, by_station, now, later_s):
    if over_for_everyone(phase, by_station, now):
        assert over_for_everyone(phase, by_station, now + timedelta(seconds=later_s))
