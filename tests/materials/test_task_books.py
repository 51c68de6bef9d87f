"""Task books (任务书) per part: released at the part's start (or its reading time before it),
never one second early; kept for a station until its part is over for it; every fetch on
record; the chief judge's page and the field judges' table."""

from __future__ import annotations

import io
import itertools
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kiosk import audit, clock
from kiosk.cli import main
from kiosk.errors import NotFound
from kiosk.materials import task_books
from kiosk.materials.models import Material, MaterialFetch
from kiosk.stations import phases, timetable
from kiosk.stations.timetable import Part
from tests.actors import CHIEF
from tests.factories import csrf_from, issue_badge, login, make_stations, make_user

BOOK = "任务书 模块A.pdf".encode()
CONTENT = b"%PDF-1.7 the task" * 100


def _day(session, reading: float = 0):
    timetable.replace(session, [
        Part("A", "模块A", "practical", 60, (15,), True, reading),
        Part("B", "模块B", "practical", 60, (15,), True)], actor=CHIEF, now=clock.now())


def _add(instance, session, part="A", name="任务书.pdf", data=CONTENT, now=None):
    return task_books.add(session, task_books.folder_of(instance.path), instance.settings,
                          part, name, io.BytesIO(data), limit=2**20, actor=CHIEF,
                          now=now or clock.now())


@pytest.fixture
def hall(app, monkeypatch):
    """Parts A (10 minutes of reading) and B; A scheduled an hour from now; two stations
    signed in; the server's clock is `moment["now"]`."""
    instance = app.extensions["kiosk"]
    moment = {"now": clock.now()}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    start = moment["now"] + timedelta(hours=1)
    with instance.session() as session:
        _day(session, reading=10)
        stations = make_stations(session, 2)
        badges = [issue_badge(session, s, instance.badge_key()) for s in stations]
        material = _add(instance, session)
        b_file = _add(instance, session, part="B", name="data-B.zip", data=b"B" * 10)
        phases.start(session, "A", 60, actor=CHIEF, now=moment["now"], at=start)
        ids = material.id, b_file.id
    clients = []
    for badge in badges:
        client = app.test_client()
        assert client.post("/api/v1/station/login",
                           json={"token": badge.qr_token}).status_code == 200
        clients.append(client)
    return {"instance": instance, "moment": moment, "start": start, "clients": clients,
            "ids": ids, "codes": [s.code for s in stations]}


def _listed(client):
    response = client.get("/api/v1/materials")
    assert response.status_code == 200
    return [m["name"] for m in response.get_json()["materials"]]


def test_a_file_is_403_until_its_release_and_200_from_that_moment(hall):
    client, moment = hall["clients"][0], hall["moment"]
    url = f"/api/v1/materials/{hall['ids'][0]}"
    release = hall["start"] - timedelta(minutes=10)  # reading time releases early, exactly so
    moment["now"] = release - timedelta(microseconds=1)
    early = client.get(url)
    assert early.status_code == 403 and early.get_json()["error"] == "forbidden"
    assert early.get_json()["starts_at"] == clock.iso(release)
    assert _listed(client) == []
    moment["now"] = release
    response = client.get(url)
    assert response.status_code == 200 and response.data == CONTENT
    assert "no-store" in response.headers["Cache-Control"]
    assert "filename*=UTF-8''%E4%BB%BB%E5%8A%A1%E4%B9%A6.pdf" in \
        response.headers["Content-Disposition"]
    assert _listed(client) == ["任务书.pdf"]


def test_without_reading_time_the_release_is_the_start(app, monkeypatch):
    instance = app.extensions["kiosk"]
    now = clock.now()
    with instance.session() as session:
        _day(session)
        start = now + timedelta(minutes=30)
        phases.start(session, "A", 60, actor=CHIEF, now=now, at=start)
        part_now = timetable.day(session, instance.settings, now).of("A")
    assert part_now.release_at == start
    assert not task_books.released(part_now, start - timedelta(microseconds=1))
    assert task_books.released(part_now, start)


def test_a_part_not_scheduled_is_never_released(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        _day(session, reading=10)
        part_now = timetable.day(session, instance.settings, clock.now()).of("A")
    assert not task_books.released(part_now, clock.now() + timedelta(days=365))


def test_a_file_of_part_b_is_not_listed_nor_served_while_only_a_runs(hall):
    client, moment = hall["clients"][0], hall["moment"]
    moment["now"] = hall["start"] + timedelta(minutes=5)
    assert _listed(client) == ["任务书.pdf"]
    assert client.get(f"/api/v1/materials/{hall['ids'][1]}").status_code == 403


def test_a_station_keeps_its_files_until_its_own_deadline(hall):
    first, second = hall["clients"]
    moment, instance = hall["moment"], hall["instance"]
    moment["now"] = hall["start"] + timedelta(minutes=30)
    with instance.session() as session:
        phases.extend(session, hall["codes"][1], 10, "设备故障", phase_name="A", actor=CHIEF,
                      now=moment["now"])
    moment["now"] = hall["start"] + timedelta(minutes=65)
    assert _listed(first) == []
    assert first.get(f"/api/v1/materials/{hall['ids'][0]}").status_code == 403
    assert _listed(second) == ["任务书.pdf"]
    assert second.get(f"/api/v1/materials/{hall['ids'][0]}").status_code == 200


def test_without_a_station_session_it_is_401(app):
    client = app.test_client()
    assert client.get("/api/v1/materials").status_code == 401
    response = client.get("/api/v1/materials/1")
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_every_fetch_is_kept_and_audited_once_per_station_and_file(hall):
    client, moment, instance = hall["clients"][0], hall["moment"], hall["instance"]
    moment["now"] = hall["start"]
    for _ in range(3):
        assert client.get(f"/api/v1/materials/{hall['ids'][0]}").status_code == 200
    with instance.session() as session:
        assert len(session.scalars(select(MaterialFetch)).all()) == 3
        fetched = [e for e in audit.list_events(session) if e.action == "material.fetched"]
    assert len(fetched) == 1
    assert fetched[0].actor == f"station:{hall['codes'][0]}"


def test_adding_is_audited_with_part_name_size_and_hash(app):
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        _day(session)
        material = _add(instance, session)
        event = next(e for e in audit.list_events(session) if e.action == "material.added")
        stored = task_books.folder_of(instance.path) / material.stored_name
    details = json.loads(event.details)
    assert details == {"part": "A", "filename": "任务书.pdf", "size": len(CONTENT),
                       "sha256": material.sha256}
    assert stored.read_bytes() == CONTENT
    assert not list(stored.parent.glob("*.partial"))


def test_a_file_removed_before_release_is_gone(hall):
    instance, moment = hall["instance"], hall["moment"]
    with instance.session() as session:
        material = session.get(Material, hall["ids"][0])
        stored = task_books.folder_of(instance.path) / material.stored_name
        task_books.remove(session, task_books.folder_of(instance.path), instance.settings,
                          "A", "任务书.pdf", actor=CHIEF, now=moment["now"])
    assert not stored.exists()
    moment["now"] = hall["start"]
    assert _listed(hall["clients"][0]) == []
    assert hall["clients"][0].get(f"/api/v1/materials/{hall['ids'][0]}").status_code == 404


def test_removing_after_release_is_refused(hall):
    instance, moment = hall["instance"], hall["moment"]
    moment["now"] = hall["start"] - timedelta(minutes=10)
    with instance.session() as session, pytest.raises(Exception, match="released"):
        task_books.remove(session, task_books.folder_of(instance.path), instance.settings,
                          "A", "任务书.pdf", actor=CHIEF, now=moment["now"])
    with instance.session() as session:
        assert session.get(Material, hall["ids"][0]) is not None


# ----------------------------------------------------------------------------- the CLI

def run(path, *args):
    return CliRunner().invoke(main, ["--instance", str(path), "materials", *map(str, args)])


def _stored(path):
    folder = task_books.folder_of(path)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_cli_adds_lists_and_removes(kiosk_instance, tmp_path):
    book = tmp_path / "任务书.pdf"
    book.write_bytes(CONTENT)
    added = run(kiosk_instance.path, "add", "practical", book, "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["size"] == len(CONTENT)
    listed = json.loads(run(kiosk_instance.path, "list", "--json").output)["materials"]
    assert [(m["part"], m["name"], m["released"]) for m in listed] == \
        [("practical", "任务书.pdf", False)]
    assert run(kiosk_instance.path, "list").output.startswith("practical")
    removed = run(kiosk_instance.path, "remove", "practical", "任务书.pdf")
    assert removed.exit_code == 0, removed.output
    assert json.loads(run(kiosk_instance.path, "list", "--json").output) == {"materials": []}
    assert _stored(kiosk_instance.path) == []


@pytest.mark.parametrize("case", ["unknown part", "missing file", "too big", "empty",
                                  "twice"])
def test_the_cli_refuses_bad_input_with_one_line_and_changes_nothing(kiosk_instance,
                                                                      tmp_path, case):
    book = tmp_path / "book.pdf"
    book.write_bytes(CONTENT)
    part = "practical"
    if case == "twice":
        assert run(kiosk_instance.path, "add", part, book).exit_code == 0
    before = (_stored(kiosk_instance.path),
              run(kiosk_instance.path, "list", "--json").output)
    if case == "unknown part":
        part = "Z"
    elif case == "missing file":
        book = tmp_path / "nothing.pdf"
    elif case == "too big":
        config = kiosk_instance.path / "config.toml"
        config.write_text(config.read_text("utf-8") + "upload_limit_mb = 1\n", "utf-8")
        book.write_bytes(b"x" * (2**20 + 1))
    elif case == "empty":
        book.write_bytes(b"")
    result = run(kiosk_instance.path, "add", part, book)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith("kiosk: ")
    after = (_stored(kiosk_instance.path), run(kiosk_instance.path, "list", "--json").output)
    assert after == before


def test_the_cli_refuses_to_remove_what_is_not_there(kiosk_instance):
    result = run(kiosk_instance.path, "remove", "practical", "nothing.pdf")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1


# ----------------------------------------------------------------------------- the pages

def _chief_client(app):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "chief", username="chief")
    client = app.test_client()
    assert login(client, "chief").status_code == 302
    return client


def test_the_chief_adds_and_removes_on_the_page(app):
    client = _chief_client(app)
    page = client.get("/materials")
    assert page.status_code == 200
    response = client.post("/materials/add", data={
        "csrf_token": csrf_from(page.text), "part": "practical",
        "file": (io.BytesIO(CONTENT), "任务书.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get("/materials")
    assert "任务书.pdf" in page.text
    with app.extensions["kiosk"].session() as session:
        material = session.scalars(select(Material)).one()
    assert material.sha256 in page.text
    assert client.get(f"/materials/{material.id}/file").data == CONTENT
    client.post(f"/materials/{material.id}/remove", data={"csrf_token": csrf_from(page.text)})
    assert 'data-file="任务书.pdf"' not in client.get("/materials").text
    assert _stored(app.extensions["kiosk"].path) == []


def test_the_page_forms_need_the_csrf_token(app):
    client = _chief_client(app)
    refused = client.post("/materials/add", data={
        "part": "practical", "file": (io.BytesIO(CONTENT), "x.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 400
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        assert session.scalars(select(Material)).all() == []
        material = _add(instance, session, part="practical")
    assert client.post(f"/materials/{material.id}/remove").status_code == 400
    with instance.session() as session:
        assert session.get(Material, material.id) is not None


def test_a_field_judge_sees_the_table_but_cannot_add(app, hall):
    moment = hall["moment"]
    moment["now"] = hall["start"]
    hall["clients"][0].get(f"/api/v1/materials/{hall['ids'][0]}")
    with hall["instance"].session() as session:
        make_user(session, "field", username="fj")
    client = app.test_client()
    login(client, "fj")
    table = client.get("/materials/fetches")
    assert table.status_code == 200
    first, second = hall["codes"]
    row_first = table.text.split(f'data-station="{first}"')[1].split("</tr>")[0]
    row_second = table.text.split(f'data-station="{second}"')[1].split("</tr>")[0]
    assert clock.local_display(moment["now"]) in row_first
    assert "not fetched yet" in row_second or "尚未" in row_second
    page = client.get("/materials")
    assert 'enctype="multipart/form-data"' not in page.text
    refused = client.post("/materials/add", data={
        "csrf_token": csrf_from(page.text), "part": "A",
        "file": (io.BytesIO(CONTENT), "x.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 403


def test_a_file_lost_from_the_disk_is_a_404_and_no_fetch(hall):
    instance, moment = hall["instance"], hall["moment"]
    moment["now"] = hall["start"]
    with instance.session() as session:
        stored = session.get(Material, hall["ids"][0]).stored_name
    (task_books.folder_of(instance.path) / stored).unlink()
    response = hall["clients"][0].get(f"/api/v1/materials/{hall['ids'][0]}")
    assert response.status_code == 404 and "任务书.pdf" in response.get_json()["message"]
    with instance.session() as session:
        assert session.scalars(select(MaterialFetch)).all() == []


def test_a_cancelled_schedule_withdraws_the_release(hall):
    instance, moment = hall["instance"], hall["moment"]
    moment["now"] = hall["start"] - timedelta(minutes=5)  # in the reading time
    assert _listed(hall["clients"][0]) == ["任务书.pdf"]
    with instance.session() as session:
        phases.cancel(session, "A", actor=CHIEF, now=moment["now"])
    assert _listed(hall["clients"][0]) == []


@pytest.mark.parametrize("material_id", ["0", "3000000000", "99999999999999999"])
def test_an_id_no_file_can_have_is_a_404_on_every_database(app, material_id):
    """A 32-bit id column: PostgreSQL refuses a larger number in the query itself (it was a
    400 there); no file has such an id, so it is simply not found."""
    with app.extensions["kiosk"].session() as session, pytest.raises(NotFound):
        task_books.material_by_id(session, int(material_id))


def test_the_clock_carries_a_tag_that_changes_exactly_when_the_list_does(hall, app):
    """The page asks for the list when the clock's tag changes (station-materials.js): each
    moment that changes a station's list changes its tag, and no other moment does."""
    first, second = hall["clients"]
    moment, instance = hall["moment"], hall["instance"]

    def seen(client):
        return client.get("/api/v1/clock").get_json()["materials_tag"], tuple(_listed(client))

    assert app.test_client().get("/api/v1/clock").get_json()["materials_tag"] is None
    moments = []
    moment["now"] = hall["start"] - timedelta(minutes=11)
    moments.append(seen(first))  # nothing released
    moment["now"] = hall["start"] - timedelta(minutes=11, seconds=-30)
    moments.append(seen(first))  # still nothing: the same tag
    moment["now"] = hall["start"] - timedelta(minutes=10)
    moments.append(seen(first))  # released (reading time)
    with instance.session() as session:
        _add(instance, session, name="数据.zip", data=b"D" * 10, now=moment["now"])
    moments.append(seen(first))  # a file more
    moment["now"] = hall["start"] + timedelta(minutes=30)
    moments.append(seen(first))  # the same list later on
    with instance.session() as session:
        phases.extend(session, hall["codes"][1], 10, "设备故障", phase_name="A", actor=CHIEF,
                      now=moment["now"])
    moments.append(seen(first))  # another station's extension: nothing for this one
    moment["now"] = hall["start"] + timedelta(minutes=65)
    moments.append(seen(first))  # over for this station: the list empties
    later = seen(second)  # the extended one keeps both files
    assert later[1] == ("任务书.pdf", "数据.zip") and later[0] == moments[3][0]
    lists = [names for _tag, names in moments]
    assert lists == [(), (), ("任务书.pdf",), ("任务书.pdf", "数据.zip"),
                     ("任务书.pdf", "数据.zip"), ("任务书.pdf", "数据.zip"), ()]
    for (tag_a, list_a), (tag_b, list_b) in itertools.pairwise(moments):
        assert (tag_a == tag_b) == (list_a == list_b), moments
    assert moments[0][0] == moments[-1][0]  # the empty list's tag, whenever it is empty
