from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from kiosk.checkin import idcard

TODAY = date(2026, 11, 22)
birth_dates = st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31))
regions = st.sampled_from(["110105", "420102", "440305", "310104", "650102"])
serials = st.integers(min_value=0, max_value=999)


def _number(region, birth, serial) -> str:
    return idcard.make_valid(f"{region}{birth:%Y%m%d}{serial:03d}")


@given(regions, birth_dates, serials)
def test_every_well_formed_number_is_accepted(region, birth, serial):
    assert idcard.problem(_number(region, birth, serial), TODAY) is None


@given(regions, birth_dates, serials, st.integers(min_value=0, max_value=17),
       st.sampled_from("0123456789X"))
def test_any_single_wrong_character_is_caught(region, birth, serial, position, replacement):
    """GB 11643's check character detects every single-character error."""
    valid = _number(region, birth, serial)
    if valid[position] == replacement or (position < 17 and replacement == "X"):
        return
    typo = valid[:position] + replacement + valid[position + 1:]
    assert idcard.problem(typo, TODAY) is not None


@given(regions, birth_dates, serials)
def test_transposed_neighbours_are_caught(region, birth, serial):
    valid = _number(region, birth, serial)
    for i in range(16):
        swapped = valid[:i] + valid[i + 1] + valid[i] + valid[i + 2:]
        if swapped != valid:
            assert idcard.problem(swapped, TODAY) is not None


def test_impossible_dates_and_the_future_are_refused():
    assert "birth date" in idcard.problem(idcard.make_valid("42010219900230001"), TODAY)
    assert "birth date" in idcard.problem(idcard.make_valid("42010220300101001"), TODAY)


def test_normalize_undoes_excel_and_input_methods():
    assert idcard.normalize(" ４２０１０２１９９００１０１００１ｘ ") == "42010219900101001X"


def test_mask_keeps_only_the_ends():
    assert idcard.mask("420102199001010011") == "4201**********0011"
