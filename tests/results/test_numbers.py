"""Typed numbers (issue 15 item 11): full-width forms mean what they say and are normalised;
anything else that is not plain digits is refused with the reason, never read silently."""

from decimal import Decimal as D

import pytest

from kiosk import clock, numbers
from kiosk.errors import ImportErrors, KioskError
from kiosk.field import incidents
from kiosk.field.models import Incident
from kiosk.results import mark_entry
from tests.actors import FIELD_JUDGE, scorer
from tests.factories import csrf_from, login, make_stations, make_user


@pytest.mark.parametrize(("text", "mark"), [
    ("８０", D(80)), ("８０．５", D("80.5")), (" ７２.２５ ", D("72.25")), ("80", D(80)),
    (".5", D("0.5"))])
def test_full_width_marks_are_normalised(text, mark):
    assert mark_entry.parse_mark(text) == mark


@pytest.mark.parametrize("text", ["٨٠", "८०", "1e1", "1E+1", "+5", "80,5", "八十", "80分",
                                  "80.", "Infinity", "", "8 0"])
def test_what_is_not_plain_digits_is_not_a_mark(text):
    assert mark_entry.parse_mark(text) is None


@pytest.mark.parametrize(("text", "parsed"), [
    ("５％", ("percent", D(5))), ("７．５%", ("percent", D("7.5"))), ("２", ("points", D(2))),
    ("abc%", None), ("%", None), ("5%%", None), ("٥%", None), ("1e1%", None)])
def test_deductions_fold_full_width_and_refuse_the_rest(text, parsed):
    assert numbers.parse_deduction(text) == parsed


def _incident(session, deduction):
    return incidents.note_incident(session, "A01", "携带手机", deduction=deduction,
                                   actor=FIELD_JUDGE, now=clock.now())


def test_an_incident_refuses_a_proposed_deduction_that_is_no_number(session):
    make_stations(session, 1)
    with pytest.raises(KioskError, match="is not a deduction") as refused:
        _incident(session, "abc%")
    assert refused.value.details == {"value": "abc%"}
    assert session.query(Incident).count() == 0
    assert _incident(session, "５％").deduction == "5%"  # stored as a scorekeeper reads it
    assert _incident(session, " 3.50 ").deduction == "3.5"
    assert _incident(session, "").deduction == ""  # no deduction proposed


def test_the_incident_page_says_why_a_deduction_is_refused(app, instance):
    with instance.session() as session:
        make_stations(session, 1)
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    token = csrf_from(judge.get("/field/A01").text)
    answer = judge.post("/field/A01/act", data={
        "csrf_token": token, "action": "incident", "rule": "携带手机", "deduction": "abc%"},
        follow_redirects=True)
    assert "abc% 不是有效的扣分" in answer.text  # the reason, in the page's language
    with instance.session() as session:
        assert session.query(Incident).count() == 0


def test_an_imported_sheet_in_full_width_digits_is_stored_as_digits(session):
    make_stations(session, 2)
    text = "赛位号,分数,任务一,任务二\nA01,８０．５,５０,３０．５\nA02,٧٠,,\n"
    with pytest.raises(ImportErrors) as refused:  # another script's digits: a line N error
        mark_entry.import_marks(session, text.encode(), "m.csv", entry=1, full_marks=D(85),
                                actor=scorer(1), now=clock.now())
    assert [p.line for p in refused.value.problems] == [3]
    mark_entry.import_marks(session, text.split("A02")[0].encode(), "m.csv", entry=1,
                            full_marks=D(85), actor=scorer(1), now=clock.now())
    assert mark_entry.entry_marks(session, 1)["A01"][0] == D("80.5")
