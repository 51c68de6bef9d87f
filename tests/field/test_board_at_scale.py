"""The field dashboard at the hall's size: the statements one view runs do not grow with the
number of stations (bench/pages.py times it at 500), and a row reads as it always did."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk import clock
from kiosk.field import incidents
from kiosk.field.telemetry import record_telemetry
from kiosk.stations import binding, phases
from kiosk.stations.models import Station
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import login, make_stations, make_user
from tests.plugins.theory_exam import bank_csv
from tests.statements import statements

GRACE = timedelta(seconds=2)


def _hall(app, count):
    """`count` drawn stations, signed in, each with answers, a hand-in part running, flags, an
    extension and an incident somewhere: every kind of row the board reads."""
    settings = app.extensions["kiosk"].settings
    with app.extensions["kiosk"].session() as session:
        import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
        stations = make_stations(session, count)
        for station in stations:
            station.occupied = True
        session.commit()
        set_spec(session, SpecInput(single=4, tf=2), actor=CHIEF, now=clock.now())
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
        for index, (station_id, key_map) in enumerate(session.execute(
                select(Paper.station_id, Paper.key_map))):
            binding.claim(session, stations[index], current_nonce=None,
                          address=f"10.0.0.{index + 1}", user_agent="test", now=clock.now())
            for seq, (qid, entry) in enumerate(key_map.items(), start=1):
                exam.save_answer(session, station_id, qid, next(iter(entry["keys"])), seq,
                                 now=clock.now(), grace=GRACE)
            record_telemetry(session, station_id, [{"kind": "blur"}, {"kind": "blur"}],
                             now=clock.now())
        phases.end(session, "theory", actor=CHIEF, now=clock.now())
        phases.start(session, "practical", 60, actor=CHIEF, now=clock.now())
        phases.extend(session, stations[0].code, 5, "设备故障", actor=CHIEF, now=clock.now())
        incidents.note_incident(session, stations[-1].code, "第三条", actor=CHIEF,
                                now=clock.now())
        incidents.early_finish(session, stations[1].code, actor=CHIEF, now=clock.now(),
                               settings=settings)
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    return judge


# One query per table the board reads, whatever the hall's size: 18 at 5 stations, at 50 and
# at 500 (bench/pages.py). A query per station would be 50 more at 50.
BOARD_STATEMENTS = 20


@pytest.mark.parametrize("count", [5, 50])
def test_the_board_runs_as_many_statements_for_50_stations_as_for_5(app, count):
    judge = _hall(app, count)
    judge.get("/field")
    with statements(app, transactions=False) as seen:
        board = judge.get("/field")
    assert board.status_code == 200
    assert board.text.count('<td class="num">6') == count  # every station's answers shown
    assert len(seen) <= BOARD_STATEMENTS, seen


def test_a_row_reads_as_before(app):
    """The row's texts are translated once per page and filled in per row: each still says
    its own station, time and count, escaped, and the details link is the station's."""
    judge = _hall(app, 3)
    with app.extensions["kiosk"].session() as session:
        session.execute(Station.__table__.update().where(Station.code == "A02")
                        .values(workstation_ip="10.0.0.2"))
        session.commit()
    board = judge.get("/field").text
    rows = {re.search(r"<strong>(\w+)</strong>", row).group(1): row
            for row in re.findall(r"<tr class=.*?</tr>", board, re.S)}
    assert set(rows) == {"A01", "A02", "A03"}
    for code, row in rows.items():
        assert row.count(f'href="/field/{code}"') == 2
        assert f'aria-label="{code} 的详情"' in row
        assert "最后在线 " in row or "在线" in row
    assert "绑定 10.0.0.2" in rows["A02"]
    assert re.search(r"\d\d:\d\d 提前结束", rows["A02"])
    assert "1 条违规记录" in rows["A03"] and "条违规记录" not in rows["A01"]
    assert "+5.0′" in rows["A01"] and "+" not in rows["A03"]
    assert all("离开考试窗口 ×2" in row for row in rows.values())
