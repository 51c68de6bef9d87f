"""The answer save is the hot path: its SQL is counted, so that a refactoring that adds a read to
it fails here and not on exam day."""

from contextlib import contextmanager

from sqlalchemy import event

from kiosk import clock
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import Paper
from tests.theory_exam.conftest import GRACE


# The one read of a save, as it was compiled before the station's window had its own module.
WINDOW_READ = (
    "SELECT p.id AS phase_id, p.starts_at, p.ends_at, p.paused_at, p.ended_at, "
    "(SELECT COALESCE(SUM(e.minutes), 0) FROM extension e "
    "WHERE e.phase_id = p.id AND e.station_id = {p}) AS extra_minutes, "
    "(SELECT s.submitted_at FROM sitting s WHERE s.station_id = {p}) AS submitted_at, "
    "(SELECT COALESCE(MAX(c.seq), 0) FROM current_answer c "
    "WHERE c.station_id = {p}) AS last_seq FROM phase p WHERE p.name = 'theory'")


@contextmanager
def statements(session):
    seen: list[str] = []

    def note(_conn, _cursor, statement, _parameters, _context, _executemany):
        seen.append(" ".join(statement.split()))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_save_reads_the_window_once_then_upserts_and_appends(exam_event):
    exam_event.start()
    station = exam_event.stations[0]
    paper = exam_event.session.get(Paper, station.id)
    question = paper.questions[0]
    keys = [option["key"] for option in question["options"]]
    now = clock.now()
    # The first save reads the key map once; every save after it is the steady state.
    exam.save_answer(exam_event.session, station.id, question["id"], keys[0], 1, now=now,
                     grace=GRACE)
    exam_event.session.close()
    with statements(exam_event.session) as seen:
        assert exam.save_answer(exam_event.session, station.id, question["id"], keys[1], 2,
                                now=now, grace=GRACE).saved
    reads = [s for s in seen if s.startswith("SELECT")]
    writes = [s for s in seen if s.startswith("INSERT")]
    placeholder = "?" if "?" in reads[0] else "%(station)s"
    assert reads == [WINDOW_READ.format(p=placeholder)]
    assert [w.split()[2] for w in writes] == ["current_answer", "answer_event"]
    # Nothing else: SQLite's BEGIN IMMEDIATE aside, the window, the upsert and the event.
    assert len([s for s in seen if not s.startswith("BEGIN")]) == 3
