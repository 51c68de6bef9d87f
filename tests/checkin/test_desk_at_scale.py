"""The check-in desk's counts, polled every 5 s by each desk (checkin-desk.js), at the size of
the roster: the statements one poll runs do not grow with the number of contestants
(bench/pages.py times it at 500), and the counts are right."""

import pytest
from sqlalchemy import event

from kiosk import clock
from kiosk.checkin.roster import check_in, import_roster
from tests.actors import SOMEONE
from tests.factories import id_number, login, make_user

# The signed-in desk and one grouped count: 4 at 5 contestants, at 60 and at 500.
COUNTS_STATEMENTS = 5


def _desk(app, count):
    rows = "\r\n".join(f"选手{i:03d},{id_number(i)},单位{i % 3},{'职工组' if i % 2 else '学生组'}"
                       for i in range(1, count + 1))
    with app.extensions["kiosk"].session() as session:
        people = import_roster(session, ("姓名,身份证号,单位,组别\r\n" + rows).encode(),
                               "roster.csv", groups=["职工组", "学生组"], actor=SOMEONE,
                               now=clock.now())
        for person in people[::2]:
            check_in(session, person.id, staff_id=None, actor=SOMEONE, now=clock.now())
        make_user(session, "checkin", username="desk")
    desk = app.test_client()
    login(desk, "desk")
    return desk


@pytest.mark.parametrize("count", [5, 60])
def test_a_poll_of_the_counts_runs_as_many_statements_for_60_as_for_5(app, count):
    desk = _desk(app, count)
    desk.get("/checkin/counts")
    seen = []

    def note(_conn, _cursor, statement, *_args):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            seen.append(statement)

    engine = app.extensions["kiosk"].engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        counts = desk.get("/checkin/counts").get_json()
        page = desk.get("/checkin")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert page.status_code == 200
    present = (count + 1) // 2
    assert counts["present"] == present and counts["total"] == count
    assert counts["absent"] == count - present
    assert sum(g["total"] for g in counts["groups"].values()) == count
    assert len(seen) <= 2 * COUNTS_STATEMENTS, seen
