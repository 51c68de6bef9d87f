"""The hall map on the field dashboard, the check-in desk's seat, the A3 print: each station's
state at a glance in words and symbol, a seat opening its station, the list still there, the
statements bounded at the hall's size; the desk showing one seat only."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kiosk import clock
from kiosk.field import dashboard, hall_layout, incidents
from kiosk.field.dashboard import StationRow
from kiosk.stations import binding, phases
from kiosk.stations.models import Station, StationSession
from kiosk.theory_exam import exam, paper_fallback
from kiosk.theory_exam.models import Paper
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import login, make_stations, make_user, without_csrf_tokens
from tests.field.test_board_at_scale import BOARD_STATEMENTS, _hall, statements
from tests.plugins.theory_exam import bank_csv

GRACE = timedelta(seconds=2)
NOW = clock.now()


def _grid(count: int, per_row: int = 10) -> bytes:
    """`count` stations A01… in rows of `per_row`, an aisle down the middle, the judges' desk
    and the door at the front, two spare seats at the back."""
    codes = [f"A{n:0{max(2, len(str(count)))}d}" for n in range(1, count + 1)]
    lines = ["标题：测试赛场", "[裁判席] [裁判席] | [门]"]
    for start in range(0, count, per_row):
        row = codes[start:start + per_row]
        half = (len(row) + 1) // 2
        lines.append(" ".join([*row[:half], "|", *row[half:]]))
    lines += ["---- 安全通道 ----", "+备1 +备2"]
    return "\n".join(lines).encode("utf-8")


def _seats(html: str) -> dict[str, str]:
    """Each seat of the map: station code → the seat's cell."""
    cells = re.findall(r'<td class="hm-seat st-[^"]*".*?</td>', html, re.S)
    found = ((re.search(r'<span class="hm-code">(A\d+)</span>', cell), cell) for cell in cells)
    return {code.group(1): cell for code, cell in found if code}


# ----------------------------------------------------------------------------- the states

def _row(**values) -> StationRow:
    row = StationRow("A01", spare=False, occupied=True, bound_ip=None)
    for key, value in values.items():
        setattr(row, key, value)
    return row


@pytest.mark.parametrize(("values", "phase_state", "kind", "state"), [
    ({"occupied": False}, "running", "theory", "unused"),
    ({"occupied": False, "spare": True}, "running", "theory", "spare"),
    ({}, "not_started", "theory", "not_started"),
    ({"last_seen": NOW}, "scheduled", "practical", "not_started"),
    ({"last_seen": NOW, "online": True}, "running", "practical", "working"),
    ({"last_seen": NOW, "online": True, "answered": 3}, "running", "theory", "answering"),
    ({"last_seen": NOW, "answered": 3, "submitted_at": NOW}, "running", "theory", "handed_in"),
    ({"last_seen": NOW, "hand_ins": 2}, "running", "practical", "handed_in"),
    ({"last_seen": NOW, "early_finish": NOW}, "running", "practical", "finished"),
    ({"last_seen": NOW, "deadline": NOW - timedelta(minutes=1)}, "running", "practical",
     "time_over"),
    ({"last_seen": NOW, "alarm": True, "answered": 3}, "running", "theory", "offline"),
    # The exam is over: what a station answered and never handed in is over too, not "answering".
    ({"last_seen": NOW, "answered": 3}, "ended", "theory", "time_over"),
    ({"last_seen": NOW, "answered": 3, "deadline": NOW - timedelta(seconds=1)}, "running",
     "theory", "time_over"),
    # Switched to paper: the station answers on its sheet; its screen being gone is no alarm.
    ({"last_seen": NOW, "answered": 3, "on_paper": True}, "running", "theory", "on_paper"),
    ({"last_seen": NOW, "on_paper": True}, "ended", "theory", "on_paper"),
    ({"occupied": False, "on_paper": True}, "running", "theory", "on_paper"),  # never signed in
    ({"last_seen": NOW, "on_paper": True, "online": True}, "running", "practical", "working"),
])
def test_each_seat_reads_its_state(values, phase_state, kind, state):
    row = _row(**values)
    assert dashboard.seat_state(row, phase_state=phase_state, kind=kind, hand_in=True,
                                now=NOW) == state


# ----------------------------------------------------------------------------- the board

def _theory_hall(app, count=6):
    """Six stations in the theory exam: A01 answering, A02 handed in, A03 offline (signed in,
    then gone), A04 extended with an incident, A05 drawn and never signed in (offline too: the
    exam runs), A06 not drawn."""
    with app.extensions["kiosk"].session() as session:
        import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
        stations = make_stations(session, count)
        for station in stations[:5]:
            station.occupied = True
        session.commit()
        hall_layout.import_layout(session, _grid(count, per_row=4), "hall.txt", actor=CHIEF,
                                  now=clock.now())
        set_spec(session, SpecInput(single=4, tf=2), actor=CHIEF, now=clock.now())
        phases.start(session, "theory", 20, actor=CHIEF, now=clock.now())
        papers = dict(session.execute(select(Paper.station_id, Paper.key_map)).all())
        for index in range(4):
            binding.claim(session, stations[index], current_nonce=None,
                          address=f"10.0.0.{index + 1}", user_agent="test", now=clock.now())
        for station in stations[:2]:
            for seq, (qid, entry) in enumerate(list(papers[station.id].items())[:3], start=1):
                exam.save_answer(session, station.id, qid, next(iter(entry["keys"])), seq,
                                 now=clock.now(), grace=GRACE)
        exam.submit(session, stations[1].id, "A02", now=clock.now(), grace=GRACE)
        phases.extend(session, "A04", 5, "设备故障", actor=CHIEF, now=clock.now())
        incidents.note_incident(session, "A04", "第三条", actor=CHIEF, now=clock.now())
        make_user(session, "field", username="judge")
    # A03 signed in long ago and has not been heard of since: offline while the exam runs.
    with app.extensions["kiosk"].session() as session:
        session.execute(StationSession.__table__.update()
                        .where(StationSession.station_id == stations[2].id)
                        .values(last_seen=clock.now() - timedelta(minutes=5)))
        session.commit()
    judge = app.test_client()
    login(judge, "judge")
    return judge


def test_the_board_shows_the_hall_map_with_each_state_in_words(app):
    judge = _theory_hall(app)
    page = judge.get("/field").text
    seats = _seats(page)
    assert list(seats) == ["A01", "A02", "A03", "A04", "A05", "A06"]
    assert "st-answering" in seats["A01"] and "作答中 3/6" in seats["A01"]
    assert "st-handed_in" in seats["A02"] and "✓" in seats["A02"] and "已提交" in seats["A02"]
    assert "st-offline" in seats["A03"] and "✕" in seats["A03"] and "离线" in seats["A03"]
    assert "延时 +5.0′" in seats["A04"] and "1 条违规记录" in seats["A04"]
    assert "st-offline" in seats["A05"] and "作答" not in seats["A05"]
    assert "st-unused" in seats["A06"] and "未使用" in seats["A06"]
    # A seat opens its station's page; the spare seats and landmarks are on the map too.
    assert '<a href="/field/A03" title="A03：离线">' in seats["A03"]
    assert page.count("备用工位") >= 2 and ">裁判席</td>" in page and "安全通道" in page
    assert "第1排" in page and "第2排" in page
    # The list stays below the map, and each view can be had alone.
    assert '<table class="grid dashboard">' in page
    only_map = judge.get("/field?view=map").text
    assert '<table class="grid dashboard">' not in only_map and _seats(only_map)
    only_list = judge.get("/field?view=list").text
    assert '<table class="grid dashboard">' in only_list and not _seats(only_list)
    assert "打印 A3 布局图" in page


def test_a_station_switched_to_paper_is_no_offline_alarm_but_on_paper(app):
    judge = _theory_hall(app)
    with app.extensions["kiosk"].session() as session:
        paper_fallback.switch_to_paper(session, "A03", "网络中断", actor=CHIEF, now=clock.now())
    page = judge.get("/field").text
    seat = _seats(page)["A03"]
    assert "st-on_paper" in seat and "纸质作答" in seat and "离线" not in seat
    assert "st-offline" in _seats(page)["A05"]  # the other gone station still alarms
    # The list below says the same: no offline alarm, the paper named beside the station.
    rows = {code: classes for classes, code in re.findall(
        r'<tr class="([^"]*)">\s*<td><a href="/field/(A\d+)"', page)}
    assert "offline" not in rows["A03"] and "offline" in rows["A05"]
    assert re.search(r'/field/A03"><strong>A03</strong></a>\s*<span class="tag">纸质作答', page)


def test_a_filter_outlines_the_seats_it_matches(app):
    judge = _theory_hall(app)
    seats = _seats(judge.get("/field?show=offline").text)
    assert [code for code, cell in seats.items() if "hm-match" in cell] == ["A03", "A05"]
    assert "符合筛选条件的赛位加黑框显示" in judge.get("/field?show=offline").text


def test_without_a_layout_the_board_is_the_list_as_before(app):
    with app.extensions["kiosk"].session() as session:
        make_stations(session, 3)
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    page = judge.get("/field").text
    assert not _seats(page) and '<table class="grid dashboard">' in page
    assert "尚无场地布局图：各赛位以列表显示。" in page


@pytest.mark.parametrize("count", [5, 50])
def test_the_map_adds_one_statement_whatever_the_hall_size(app, count):
    """The board at the hall's size with its map: the layout is one more statement (the
    practical part is running: the paper's length is not asked), as many at 50 as at 5."""
    judge = _hall(app, count)
    with app.extensions["kiosk"].session() as session:
        hall_layout.import_layout(session, _grid(count), "hall.txt", actor=CHIEF,
                                  now=clock.now())
    judge.get("/field")
    with statements(app) as seen:
        board = judge.get("/field")
    assert len(_seats(board.text)) == count
    assert board.text.count('<td class="num">6') == count  # the list is still there
    assert len(seen) <= BOARD_STATEMENTS, seen


def test_in_the_theory_exam_the_paper_length_is_one_more_statement(app):
    judge = _theory_hall(app, 6)
    judge.get("/field")
    with statements(app) as seen:
        judge.get("/field")
    assert len(seen) <= BOARD_STATEMENTS, seen
    assert sum("json_array_length" in s for s in seen) == 1


# ----------------------------------------------------------------------------- the desk

def _desk(app, count=12):
    with app.extensions["kiosk"].session() as session:
        for station in make_stations(session, count):
            station.occupied = True
        session.commit()
        hall_layout.import_layout(session, _grid(count, per_row=6), "hall.txt", actor=CHIEF,
                                  now=clock.now())
        make_user(session, "checkin", username="desk")
    client = app.test_client()
    login(client, "desk")
    return client


def test_the_desk_shows_one_seat_and_no_other_station(app):
    desk = _desk(app)
    page = desk.get("/checkin")
    assert "为选手显示座位：输入其抽到的赛位号" in page.text
    assert not re.search(r"A\d\d", without_csrf_tokens(page.text))  # the desk names none
    seat = desk.get("/checkin/seat?station=a08")
    assert seat.status_code == 200
    assert "您的座位：A08" in seat.text
    assert "第 2 排，从左数第 2 个" in seat.text
    assert set(re.findall(r"A\d\d", without_csrf_tokens(seat.text))) == {"A08"}  # no other station
    assert seat.text.count("data-your-seat") == 1
    assert seat.text.count('class="hm-seat st-blank"') == 11 + 2  # the others and the spares
    assert ">裁判席</td>" in seat.text and ">门</td>" in seat.text  # to find one's way
    # The live desk asks for the seat alone.
    fragment = desk.get("/checkin/seat?station=A08&fragment=1").text
    assert fragment.lstrip().startswith('<section class="seat-finder"')
    assert re.findall(r"A\d\d", without_csrf_tokens(fragment)) == ["A08", "A08"]


def test_the_desk_says_when_a_station_is_not_on_the_map(app):
    desk = _desk(app)
    missing = desk.get("/checkin/seat?station=A99")
    assert missing.status_code == 404
    assert "赛位 A99 不在场地布局图上。" in missing.text
    assert not re.search(r"A(?!99)\d\d", without_csrf_tokens(missing.text))


def test_the_desk_tells_nothing_of_the_draw(app):
    """A station not drawn shows its seat as a drawn one does: the desk cannot tell which
    stations are taken (that would link a late arrival to their station)."""
    desk = _desk(app)
    with app.extensions["kiosk"].session() as session:
        session.execute(Station.__table__.update().where(Station.code == "A12")
                        .values(occupied=False))
        session.commit()
    free = desk.get("/checkin/seat?station=A12&fragment=1").text
    with app.extensions["kiosk"].session() as session:
        session.execute(Station.__table__.update().where(Station.code == "A12")
                        .values(occupied=True))
        session.commit()
    assert desk.get("/checkin/seat?station=A12&fragment=1").text == free


def test_a_field_judge_cannot_use_the_desk_seat_page(app):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "crypt1", username="c1")
    client = app.test_client()
    login(client, "c1")
    assert client.get("/checkin/seat?station=A01").status_code == 403


# ----------------------------------------------------------------------------- the A3 print

def test_the_a3_map_is_landscape_a3_with_the_codes_as_text(app, tmp_path):
    desk = _desk(app, 24)
    with app.extensions["kiosk"].session() as session:
        make_user(session, "field", username="judge")
    judge = app.test_client()
    login(judge, "judge")
    response = judge.get("/field/layout.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(BytesIO(response.data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == \
        (420, 297)  # A3, landscape
    text = reader.pages[0].extract_text()
    assert all(f"A{n:02d}" in text for n in range(1, 25))
    assert "场地布局图 · 测试赛场" in text and "裁判席" in text and "备用工位" in text
    assert "第1排" in text and "第4排" in text and "安全通道" in text
    assert desk.get("/field/layout.pdf").status_code == 403  # the desk has no map of codes


def test_the_cli_prints_the_a3_map(instance, tmp_path):
    from tests.field.test_hall_layout import cli

    with instance.session() as session:
        make_stations(session, 4)
        session.commit()
    assert cli(instance.path, "hall", "map", "--out", tmp_path / "x.pdf").exit_code == 1
    cli(instance.path, "hall", "layout", "import", _write(tmp_path, _grid(4)))
    result = cli(instance.path, "hall", "map", "--out", tmp_path / "map.pdf")
    assert result.exit_code == 0, result.output
    text = PdfReader(tmp_path / "map.pdf").pages[0].extract_text()
    assert "A01" in text and "A04" in text and "[门]" not in text and "门" in text


def _write(tmp_path, data: bytes):
    path = tmp_path / "hall.txt"
    path.write_bytes(data)
    return path
