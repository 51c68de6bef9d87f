"""The pages people reload all day, at the size of the day, each beside its ceiling.

    python bench/pages.py [--stations 500] [--repeat 10]

Builds an instance in-process with the domain functions, as the day leaves it: a roster of N
contestants all checked in, both draws run and sealed, N stations each signed in from its
workstation, a theory paper of 60 questions answered in full at every station (the first
station through the save path, the others' rows written as it leaves them, in one transaction;
four in five handed in, the exam over), the practical started with extensions, an early
finish, telemetry flags, incidents and some hand-ins, then over; both scorekeepers' marks (a
few differences, resolved), deductions, and the review sample drawn with some outcomes
recorded.

Then times each page through the real app (the Flask test client, signed in as the role that
reloads it), `--repeat` times: min / median / max, and the SQL statements one view runs; beside
it, in the same run, its ceiling: the tables the page is built from, read with one plain query
each (no ORM objects, no template). The field dashboard is the page its script fetches again
every 15 s (kiosk/static/js/dashboard.js); the check-in desk polls /checkin/counts every 5 s
(kiosk/static/js/checkin-desk.js).
"""

from __future__ import annotations

import argparse
import gc
import io
import re
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Text, event, insert, select

from kiosk import clock, staff
from kiosk.app import create_app
from kiosk.audit import Actor
from kiosk.checkin import draw_stages
from kiosk.checkin.idcard import make_valid
from kiosk.checkin.models import Contestant
from kiosk.checkin.roster import check_in, import_roster
from kiosk.collect.hand_ins import ingest
from kiosk.collect.models import HandIn
from kiosk.crypto import new_age_identity
from kiosk.db import write_transaction
from kiosk.demo import seed_file
from kiosk.field import incidents
from kiosk.field.models import Incident
from kiosk.field.telemetry import record_telemetry
from kiosk.instance import init_instance
from kiosk.judge_keys import add_judge_key
from kiosk.results import mark_entry, review
from kiosk.results.deductions import add_deduction
from kiosk.results.models import Deduction, MarkEntry, MarkResolution, ReviewItem
from kiosk.stations import binding, phases
from kiosk.stations.models import (
    EarlyFinish,
    Extension,
    PhasePause,
    PhaseRow,
    Station,
    StationSession,
    TelemetryEvent,
)
from kiosk.stations.registry import add_stations
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import AnswerEvent, CurrentAnswer, Paper, Sitting
from kiosk.theory_exam.papers import SpecInput, set_spec
from kiosk.theory_exam.question_bank import import_bank

ACTOR = Actor("bench", "cli")
PASSWORD = secrets.token_urlsafe(12)  # the staff accounts of this run
GRACE = timedelta(seconds=2)
DAY_BEFORE = timedelta(hours=3)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# ----------------------------------------------------------------------------- the day

def build(folder: Path, count: int, say: Callable[[str], None]):
    """The instance as the day leaves it (see the module's docstring); returns its path."""
    instance = init_instance(folder / "instance", event_name="页面压力测试")
    # Building is not what is measured: no fsync per step while the day is written.
    instance.engine.dispose()
    event.listen(instance.engine, "connect",
                 lambda dbapi, _r: dbapi.execute("PRAGMA synchronous=OFF"))
    # The day is written as it happened hours before the pages are reloaded (the overview is
    # read all afternoon, long after the theory exam settled: exam._SETTLED).
    def now():
        return clock.now() - DAY_BEFORE

    began = time.perf_counter()
    with instance.session() as session:
        rows = "".join(f"选手{i:03d},{make_valid(f'420102199001{i % 28 + 1:02d}{i:03d}')},"
                       f"单位{i % 17},{'职工组' if i % 2 else '学生组'}\r\n"
                       for i in range(1, count + 1))
        people = import_roster(session, ("姓名,身份证号,单位,组别\r\n" + rows).encode(),
                               "roster.csv", groups=["职工组", "学生组"], actor=ACTOR, now=now())
        import_bank(session, seed_file("question_bank.csv"), "bank.csv", actor=ACTOR, now=now())
        stations = add_stations(session, count, prefix="A", first_ip=None, actor=ACTOR,
                                now=now())
        for role in ("crypt1", "crypt2", "archive"):
            add_judge_key(session, f"bench {role}", new_age_identity()[1], role, actor=ACTOR,
                          now=now())
        for username, role in (("judge", "field"), ("boss", "chief"), ("desk", "checkin"),
                               ("sup", "supervisor")):
            staff.add_user(session, username, role, PASSWORD, actor=ACTOR, now=now())
        set_spec(session, SpecInput(single=40, tf=20, single_points=Decimal(2),
                                    tf_points=Decimal(1)), actor=ACTOR, now=now())
        for person in people:
            check_in(session, person.id, staff_id=None, actor=ACTOR, now=now())
        for stage in (1, 2):
            committed = draw_stages.commit(session, stage, actor=ACTOR, now=now())
            draw_stages.draw(session, stage, "3 1 4 1 5 9", commitment=committed.commitment,
                             actor=ACTOR, now=now())
            draw_stages.seal(session, stage, event_name="页面压力测试", actor=ACTOR, now=now())
        for index, station in enumerate(stations):  # every workstation signs in
            binding.claim(session, station, current_nonce=None, address=f"10.0.{index // 250}."
                          f"{index % 250 + 1}", user_agent="bench", now=now())
        say(f"roster of {count} checked in, both draws sealed, {count} stations signed in "
            f"in {time.perf_counter() - began:.1f} s")

        began = time.perf_counter()
        phases.start(session, "theory", 20, actor=ACTOR, now=now())
        papers = session.execute(select(Paper.station_id, Paper.key_map)
                                 .order_by(Paper.station_id)).all()
        # The first station clicks through the save path itself; the others' rows are written
        # as that path leaves them (one current answer and one event per click), in one
        # transaction: 30 000 single saves would take most of a minute to build.
        current, events = [], []
        for number, (station_id, key_map) in enumerate(papers):
            for seq, (qid, entry) in enumerate(key_map.items(), start=1):
                keys = list(entry["keys"])
                key = keys[(number + seq) % len(keys)]
                if number == 0:
                    exam.save_answer(session, station_id, qid, key, seq, now=now(), grace=GRACE)
                    continue
                row = {"station_id": station_id, "question_id": int(qid),
                       "choice": entry["keys"][key], "seq": seq}
                current.append({**row, "saved_at": now()})
                events.append({**row, "received_at": now(), "applied": True})
        with write_transaction(session):
            session.execute(insert(CurrentAnswer), current)
            session.execute(insert(AnswerEvent), events)
        for number, station in enumerate(stations):
            if number % 5:  # four in five hand in; the rest are graded as they stand
                exam.submit(session, station.id, station.code, now=now(), grace=GRACE)
        saved = len(current) + len(papers[0][1])
        phases.end(session, "theory", actor=ACTOR, now=now())
        say(f"{saved} answers saved by {len(papers)} stations, theory over, "
            f"in {time.perf_counter() - began:.1f} s")

        began = time.perf_counter()
        phases.start(session, "practical", 150, actor=ACTOR, now=now())
        settings = instance.settings
        for index, station in enumerate(stations):
            if index % 25 == 0:
                phases.extend(session, station.code, 10, "设备故障", actor=ACTOR, now=now())
            if index % 10 == 3:
                record_telemetry(session, station.id, [{"kind": "focus_lost"},
                                                       {"kind": "focus_lost"}], now=now())
            if index % 50 == 7:
                incidents.note_incident(session, station.code, "第十二条", note="携带资料",
                                        deduction="5%", actor=ACTOR, now=now())
            if index % 4 == 1:
                ingest(session, archives=instance.path / "archives", station_id=station.id,
                       station_code=station.code, body=io.BytesIO(b"PK" + bytes(2000)),
                       filename="work.zip", content_length=2002, limit=10 ** 8,
                       now_fn=now, grace=GRACE, actor=ACTOR)
        incidents.early_finish(session, stations[2].code, actor=ACTOR, now=now(),
                               settings=settings)
        phases.end(session, "practical", actor=ACTOR, now=now())
        say(f"practical: extensions, flags, incidents, {len(stations[1::4])} hand-ins, over, "
            f"in {time.perf_counter() - began:.1f} s")

        began = time.perf_counter()
        for entry in (1, 2):
            sheet = "赛位号,分数\n" + "".join(
                f"{s.code},{60 + i % 25 + (1 if entry == 2 and i % 40 == 0 else 0)}\n"
                for i, s in enumerate(stations))
            mark_entry.import_marks(session, sheet.encode(), "marks.csv", entry=entry,
                                    full_marks=Decimal(85), actor=Actor(f"scorer{entry}", "cli"),
                                    now=now())
        for i, s in enumerate(stations):
            if i % 40 == 0:
                mark_entry.resolve(session, s.code, Decimal(60 + i % 25), "以评分表为准",
                                   actor=ACTOR, now=now())
            if i % 50 == 7:
                add_deduction(session, s.code, "5%", "携带资料", "裁判长", actor=ACTOR, now=now())
        say(f"two entries of {count} marks, differences resolved, deductions, "
            f"in {time.perf_counter() - began:.1f} s")
    return instance.path


def draw_review(path: Path) -> int:
    """The review sample drawn and a third of it confirmed: the overview's heaviest stage."""
    from kiosk.instance import open_instance

    instance = open_instance(path)
    with instance.session() as session:
        review.draw_sample(session, theory_weight=Decimal(15), actor=ACTOR, now=clock.now())
        items = review.items(session)
        for _item, seat in items[::3]:
            review.record_outcome(session, seat, correct=True, actor=ACTOR, now=clock.now())
    instance.engine.dispose()
    return len(items)


# ----------------------------------------------------------------------------- measuring

class Statements:
    """SQL statements run on an engine, counted."""

    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *_args) -> None:
        self.count += 1


def signed_in(app, username: str):
    client = app.test_client()
    form = CSRF.search(client.get("/login").text).group(1)
    answer = client.post("/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": form})
    assert answer.status_code in (302, 303), answer.status_code
    return client


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    gc.collect()  # each series starts from the same heap: not the last one's garbage
    spent = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        spent.append(time.perf_counter() - began)
    return spent


def ceiling_of(engine, columns: list[list]) -> Callable[[], None]:
    """Each table the page is built from, read with one plain query (Core rows, the columns'
    own types): what no view of those rows can beat."""
    def read() -> None:
        with engine.connect() as connection:
            for table in columns:
                connection.execute(select(*table)).all()
    return read


DASHBOARD_ROWS = [
    [Station.id, Station.code, Station.spare, Station.occupied, Station.workstation_ip],
    [StationSession.station_id, StationSession.address, StationSession.last_seen],
    [CurrentAnswer.station_id, CurrentAnswer.choice],
    [Sitting.station_id, Sitting.submitted_at],
    [PhaseRow.id, PhaseRow.name, PhaseRow.starts_at, PhaseRow.ends_at],
    [Extension.station_id, Extension.phase_id, Extension.minutes],
    [EarlyFinish.station_id, EarlyFinish.phase_id, EarlyFinish.at],
    [TelemetryEvent.station_id, TelemetryEvent.kind, TelemetryEvent.at],
    [Incident.station_id],
    [HandIn.station_id, HandIn.part, HandIn.received_at],
]
OVERVIEW_ROWS = [
    [Station.id, Station.code, Station.occupied],
    [Paper.station_id, Paper.key_map.cast(Text), Paper.full_marks],  # as stored: not decoded
    [CurrentAnswer.station_id, CurrentAnswer.question_id, CurrentAnswer.choice],
    [Sitting.station_id, Sitting.submitted_at, Sitting.score, Sitting.answered,
     Sitting.time_used_s],
    [PhaseRow.id, PhaseRow.name, PhaseRow.starts_at, PhaseRow.ends_at],
    [PhasePause.phase_id, PhasePause.started_at, PhasePause.ended_at],
    [Extension.station_id, Extension.phase_id, Extension.minutes],
    [EarlyFinish.station_id, EarlyFinish.phase_id, EarlyFinish.at],
    [MarkEntry.station_id, MarkEntry.entry, MarkEntry.task, MarkEntry.mark],
    [MarkResolution.station_id, MarkResolution.task, MarkResolution.mark],
    [Deduction.station_id, Deduction.unit, Deduction.amount],
    [ReviewItem.station_id, ReviewItem.status, ReviewItem.corrected_mark],
]
COUNTS_ROWS = [[Contestant.group, Contestant.checked_in_at]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp), args.stations, print)
        app = create_app(path)
        engine = app.extensions["kiosk"].engine
        statements = Statements(engine)
        clients = {name: signed_in(app, name) for name in ("judge", "boss", "desk")}

        def page(client: str, url: str) -> Callable[[], None]:
            def view() -> None:
                answer = clients[client].get(url)
                assert answer.status_code == 200, (url, answer.status_code)
            return view

        pages = [("field dashboard", "GET /field as a field judge", page("judge", "/field"),
                  DASHBOARD_ROWS),
                 ("scoring overview", "GET /results/ as the chief judge",
                  page("boss", "/results/"), OVERVIEW_ROWS),
                 ("check-in counts", "GET /checkin/counts as the desk",
                  page("desk", "/checkin/counts"), COUNTS_ROWS),
                 ("check-in desk", "GET /checkin as the desk", page("desk", "/checkin"),
                  COUNTS_ROWS)]
        print(f"\n{args.stations} stations, {args.repeat} views each "
              f"(min / median / max; SQL statements per view):")
        measured = []
        for name, how, view, rows in pages:
            view()  # the first view grades and records the papers; later views find them
            before = statements.count
            view()
            queries = statements.count - before
            measured.append((name, how, timed(view, args.repeat), queries,
                             timed(ceiling_of(engine, rows), args.repeat), len(rows)))
        sampled = draw_review(path)
        overview = page("boss", "/results/")
        overview()
        before = statements.count
        overview()
        queries = statements.count - before
        measured.insert(2, ("scoring overview, review", f"the same, {sampled} stations sampled",
                            timed(overview, args.repeat), queries,
                            timed(ceiling_of(engine, OVERVIEW_ROWS), args.repeat),
                            len(OVERVIEW_ROWS)))
        for name, how, spent, queries, ceiling, tables in measured:
            print(f"  {name:26} {_ms(spent)}   {queries:3} statements   ({how})")
            print(f"  {'  ceiling':26} {_ms(ceiling)}   {tables:3} statements   "
                  f"(its {tables} tables, one plain query each)")
            print(f"  {'  page / ceiling':26} min {min(spent) / min(ceiling):.1f}, median "
                  f"{statistics.median(spent) / statistics.median(ceiling):.1f}")
        print("target: every page under 100 ms")


def _ms(spent: list[float]) -> str:
    return (f"{min(spent) * 1000:7.1f} / {statistics.median(spent) * 1000:7.1f} / "
            f"{max(spent) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
