"""Task books of an event in sessions (场次): each session's own, listed and served to its own
stations only."""

from sqlalchemy import select

from kiosk import scope
from kiosk.materials.models import Material
from tests.stations.two_sessions import two_session_day


def test_a_station_lists_and_fetches_its_own_sessions_task_books_only(app):
    day = two_session_day(app)
    with day.instance.session() as session, scope.event_wide(session):
        ids = {m.filename: m.id for m in session.scalars(select(Material))}
    pm = day.clients["PM"]
    listed = pm.get("/api/v1/materials").get_json()["materials"]
    assert [m["name"] for m in listed] == ["下午任务书.pdf"]
    assert pm.get(f"/api/v1/materials/{ids['下午任务书.pdf']}").data == "下午".encode()
    assert pm.get(f"/api/v1/materials/{ids['上午任务书.pdf']}").status_code == 404
