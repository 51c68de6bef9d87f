"""The ceremony end to end on the real database: commit, entropy, draw, seal, unseal."""

import json
import shutil
import subprocess

import pytest
from sqlalchemy import inspect, select, text

from kiosk import clock
from kiosk.checkin import draw_stages, opening
from kiosk.checkin import verifiable_draw as rules
from kiosk.checkin.models import Draw1Assignment, Draw2Assignment, DrawRound
from kiosk.errors import Conflict, ImportErrors
from kiosk.models import AuditEvent
from kiosk.stations.models import Station
from tests.actors import CRYPT1, CRYPT2, SOMEONE, SUPERVISOR
from tests.factories import id_number

EVENT = "测试赛事"


def run_stage(session, stage, entropy="3 1 4 1 5"):
    actor = CRYPT1 if stage == 1 else CRYPT2
    committed = draw_stages.commit(session, stage, actor=actor, now=clock.now())
    draw_stages.draw(session, stage, entropy, commitment=committed.commitment, actor=actor,
                     now=clock.now())
    return draw_stages.plaintext_mapping(session, stage).pairs


def seal(session, stage):
    return draw_stages.seal(session, stage, event_name=EVENT,
                            actor=CRYPT1 if stage == 1 else CRYPT2, now=clock.now())


def test_only_checked_in_contestants_draw(event):
    event.checkin(9)
    pairs = run_stage(event.session, 1)
    assert len(pairs) == 9
    assert {p["id_number"] for p in pairs} == {p.id_number for p in event.people[:9]}
    assert len({p["contestant_no"] for p in pairs}) == 9
    assert all(p["contestant_no"] in draw_stages.stage_pool(event.session, 1) for p in pairs)


def test_a_draw_without_commitment_or_entropy_is_refused(event):
    event.checkin()
    with pytest.raises(Conflict):
        draw_stages.draw(event.session, 1, "1 2 3", commitment="", actor=CRYPT1, now=clock.now())
    committed = draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now())
    with pytest.raises(Exception, match="entropy"):
        draw_stages.draw(event.session, 1, "   ", commitment=committed.commitment, actor=CRYPT1,
                         now=clock.now())


def test_sealing_erases_every_pair_and_keeps_only_ciphertext(event):
    event.checkin()
    run_stage(event.session, 1)
    round_ = seal(event.session, 1)
    assert round_.status == "sealed" and round_.seed is None
    assert round_.ciphertext.startswith(b"age-encryption.org/v1")
    assert event.session.scalar(select(Draw1Assignment.id)) is None


def test_after_both_seals_no_dump_links_a_station_to_a_person(event, instance):
    event.checkin()
    stage1 = run_stage(event.session, 1)
    stage2 = run_stage(event.session, 2, "2 7 1 8")
    seal(event.session, 1)
    seal(event.session, 2)
    number_of = {p["id_number"]: p["contestant_no"] for p in stage1}
    station_of = {p["contestant_no"]: p["station"] for p in stage2}
    # Every row of every table, as text: the logical dump of the database.
    rows = []
    with instance.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                rows.append(" | ".join(str(v) for v in row))
    for person in event.people:
        number = number_of[person.id_number]
        station = station_of[number]
        for row in rows:
            holds_person = person.id_number in row or person.name in row \
                or f"contestant_id={person.id}" in row
            assert not (holds_person and (f"'{number}'" in row or station in row.split(" | "))), row
        assert not any(f"{number}" in row.split(" | ") and station in row.split(" | ")
                       for row in rows), (number, station)
    audit_text = " ".join(e.details for e in event.session.scalars(select(AuditEvent)))
    for number, station in station_of.items():
        assert f'"{number}"' not in audit_text
        assert f'"{station}"' not in audit_text
    # The server still knows which seats are taken.
    occupied = set(event.session.scalars(select(Station.code).where(Station.occupied)))
    assert occupied == set(station_of.values())


@pytest.mark.parametrize("database", ["sqlite"])
def test_the_sqlite_file_keeps_no_deleted_pairs(event, instance):
    """secure_delete zeroes deleted rows and the WAL is truncated at the seal."""
    from pathlib import Path

    event.checkin()
    run_stage(event.session, 1)
    # The seed is 32 random bytes found nowhere else: a perfect marker for erased content.
    seed = draw_stages.current_round(event.session, 1).seed
    path = Path(instance.engine.url.database)
    wal = Path(str(path) + "-wal")
    assert seed in path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    seal(event.session, 1)
    assert not wal.exists() or wal.stat().st_size == 0
    assert seed not in path.read_bytes()
    with instance.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_unsealing_with_both_keys_recomputes_and_links(event):
    event.checkin()
    stage1 = run_stage(event.session, 1)
    stage2 = run_stage(event.session, 2)
    seal(event.session, 1)
    seal(event.session, 2)
    keys = [event.keys["crypt1"], event.keys["crypt2"]]
    opened = {stage: opening.open_stage(event.session, stage, keys) for stage in (2, 1)}
    assert opened[1].verified and opened[2].verified
    people = {a["contestant_no"]: a["id_number"] for a in opened[1].assignments}
    expected = {p["station"]: next(q["id_number"] for q in stage1
                                   if q["contestant_no"] == p["contestant_no"])
                for p in stage2}
    assert {a["station"]: people[a["contestant_no"]]
            for a in opened[2].assignments} == expected


def test_one_key_opens_only_its_layer(event):
    event.checkin()
    run_stage(event.session, 1)
    run_stage(event.session, 2)
    seal(event.session, 1)
    seal(event.session, 2)
    assert opening.open_stage(event.session, 1, [event.keys["crypt2"]]) is None
    stage2 = opening.open_stage(event.session, 2, [event.keys["crypt2"]])
    assert stage2.verified and len(stage2.assignments) == len(event.people)
    assert "name" not in json.dumps(stage2.assignments)


def test_a_changed_sealed_record_is_detected(event):
    event.checkin()
    run_stage(event.session, 1)
    seal(event.session, 1)
    with draw_stages.write_transaction(event.session):
        round_ = draw_stages.current_round(event.session, 1)
        round_.ciphertext_sha256 = "0" * 64  # the printed hash no longer matches
    opened = opening.open_stage(event.session, 1, [event.keys["crypt1"]])
    assert not opened.verified and "SHA-256" in opened.problems[0]


def test_a_redraw_before_the_seal_keeps_both_commitments_in_the_log(event):
    event.checkin()
    run_stage(event.session, 1, "1 1 1")
    first = draw_stages.current_round(event.session, 1).commitment
    run_stage(event.session, 1, "2 2 2")
    second = draw_stages.current_round(event.session, 1).commitment
    assert first != second
    rounds = draw_stages.history(event.session, 1)
    assert [r.status for r in rounds] == ["superseded", "drawn"]
    logged = " ".join(e.details for e in event.session.scalars(
        select(AuditEvent).where(AuditEvent.action.startswith("draw."))))
    assert first in logged and second in logged
    assert event.session.query(Draw1Assignment).count() == len(event.people)


def test_no_redraw_after_the_seal(event):
    event.checkin()
    run_stage(event.session, 1)
    seal(event.session, 1)
    with pytest.raises(Conflict, match="sealed"):
        draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now())


def test_late_arrivals_before_and_after_the_seal_stay_verifiable(event):
    event.checkin(10)
    run_stage(event.session, 1)
    late_before = event.people[10]
    event.checkin(11)
    number = draw_stages.assign_late(event.session, 1, late_before.id_number, actor=CRYPT1,
                                     now=clock.now())
    seal(event.session, 1)
    late_after = event.people[11]
    event.checkin()
    number_after = draw_stages.assign_late(event.session, 1, late_after.id_number, actor=CRYPT1,
                                           now=clock.now())
    assert number != number_after
    assert event.session.scalar(select(Draw1Assignment.id)) is None  # still nothing in plaintext
    opened = opening.open_stage(event.session, 1, [event.keys["crypt1"]])
    assert opened.verified, opened.problems
    mine = {a["id_number"]: a["contestant_no"] for a in opened.assignments}
    assert mine[late_before.id_number] == number and mine[late_after.id_number] == number_after
    assert len(mine) == 12


def test_physical_lots_refuse_duplicates_and_numbers_outside_the_pool(event):
    event.checkin(3)
    a, b, c = (p.id_number for p in event.people[:3])
    with pytest.raises(ImportErrors) as excinfo:
        draw_stages.draw_by_lots(event.session, 1, {a: "1", b: "1", c: "99"}, actor=CRYPT1,
                                 now=clock.now())
    messages = [p.message for p in excinfo.value.problems]
    assert any("drawn already" in m for m in messages)
    assert any("not in the pool" in m for m in messages)
    assert event.session.query(DrawRound).count() == 0
    draw_stages.draw_by_lots(event.session, 1, {a: "1", b: "2", c: "012"}, actor=CRYPT1,
                             now=clock.now())
    pairs = draw_stages.plaintext_mapping(event.session, 1).pairs
    numbers = sorted(p["contestant_no"] for p in pairs)
    assert numbers == ["001", "002", "012"]


def test_sealing_needs_a_registered_key(instance, session):
    from kiosk.checkin.roster import check_in, import_roster

    (person,) = import_roster(session, f"姓名,身份证号,组别\r\n甲,{id_number(1)},职工组\r\n"
                              .encode(), "r.csv", groups=["职工组"], actor=SOMEONE,
                              now=clock.now())
    check_in(session, person.id, staff_id=None, actor=SOMEONE, now=clock.now())
    run_stage(session, 1)
    with pytest.raises(Conflict, match="judge-key add"):
        seal(session, 1)
    assert session.query(Draw1Assignment).count() == 1  # nothing erased


@pytest.mark.skipif(shutil.which("age") is None, reason="the age tool is not installed")
def test_the_standard_age_tool_opens_the_sealed_record(event, tmp_path):
    event.checkin()
    pairs = run_stage(event.session, 1)
    round_ = seal(event.session, 1)
    sealed = tmp_path / "stage1.age"
    sealed.write_bytes(round_.ciphertext)
    identity = tmp_path / "crypt1.key"
    identity.write_text(str(event.keys["crypt1"]) + "\n")
    opened = subprocess.run(["age", "-d", "-i", str(identity), str(sealed)],
                            capture_output=True, check=True).stdout
    document = json.loads(opened)
    assert document["commitment"] == round_.commitment
    assert {a["contestant_no"] for a in document["assignments"]} == \
        {p["contestant_no"] for p in pairs}


def test_stage_two_draws_only_non_spare_stations(event):
    event.checkin()
    run_stage(event.session, 1)
    with draw_stages.write_transaction(event.session):
        spare = event.session.scalar(select(Station).where(Station.code == "A01"))
        spare.spare = True
    pairs = run_stage(event.session, 2)
    assert "A01" not in {p["station"] for p in pairs}
    assert event.session.query(Draw2Assignment).count() == len(event.people)


def test_entropy_entered_against_a_replaced_commitment_is_refused(event):
    """The entropy proves something only if it came after the commitment it was shown with."""
    event.checkin()
    shown = draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now()).commitment
    replacing = draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now()).commitment
    with pytest.raises(Conflict, match="another commitment"):
        draw_stages.draw(event.session, 1, "6 6 6", commitment=shown, actor=CRYPT1, now=clock.now())
    assert draw_stages.current_round(event.session, 1).status == "committed"
    draw_stages.draw(event.session, 1, "6 6 6", commitment=replacing, actor=CRYPT1, now=clock.now())
    assert draw_stages.current_round(event.session, 1).status == "drawn"


def test_the_entropy_of_a_superseded_round_is_refused(event):
    """That entropy was public before the new seed was chosen: the server could have picked a
    seed to suit it."""
    event.checkin()
    run_stage(event.session, 1, "1 2 3")
    committed = draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now())
    with pytest.raises(Conflict, match="superseded"):
        draw_stages.draw(event.session, 1, " 1 2 3 ", commitment=committed.commitment, actor=CRYPT1,
                         now=clock.now())
    assert draw_stages.current_round(event.session, 1).status == "committed"


def _dump(instance) -> dict[str, list[tuple]]:
    """Every row of every table, every column, in the order the database gives them (with
    PostgreSQL's xmin, the transaction that wrote the row, as the first column)."""
    tables: dict[str, list[tuple]] = {}
    postgres = instance.engine.dialect.name == "postgresql"
    with instance.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            columns = 'xmin::text::bigint, *' if postgres else '*'
            tables[table] = [tuple(row) for row in
                             conn.execute(text(f'SELECT {columns} FROM "{table}"'))]  # noqa: S608
    return tables


def _lists_of(cell) -> list[list]:
    if not isinstance(cell, str) or not cell.startswith("["):
        return []
    try:
        value = json.loads(cell)
    except ValueError:
        return []
    return [value] if isinstance(value, list) else []


def test_after_the_seals_nothing_stored_recomputes_what_a_late_arrival_drew(event, instance):
    """A late arrival after both seals: no plaintext in the database — rows, their order, the
    transaction that wrote them, the SQLite file and its WAL — tells their number or station;
    the judges' unsealing still links them, and verifies."""
    from pathlib import Path

    event.checkin(8)
    run_stage(event.session, 1)
    seeds = [draw_stages.current_round(event.session, 1).seed]
    seal(event.session, 1)
    run_stage(event.session, 2, "2 7 1 8")
    seeds.append(draw_stages.current_round(event.session, 2).seed)
    seal(event.session, 2)
    late = event.people[8]
    event.checkin(9)
    number = draw_stages.assign_late(event.session, 1, late.id_number, actor=CRYPT1,
                                     now=clock.now())
    station = draw_stages.assign_late(event.session, 2, number, actor=CRYPT2, now=clock.now())

    keys = [event.keys["crypt1"], event.keys["crypt2"]]
    opened = {stage: opening.open_stage(event.session, stage, keys) for stage in (2, 1)}
    assert opened[1].verified and opened[2].verified, opened[1].problems + opened[2].problems
    numbers = {a["id_number"]: a["contestant_no"] for a in opened[1].assignments}
    stations = {a["contestant_no"]: a["station"] for a in opened[2].assignments}
    assert stations[numbers[late.id_number]] == station and numbers[late.id_number] == number

    pools = [set(draw_stages.stage_pool(event.session, stage)) for stage in (1, 2)]
    tables = _dump(instance)
    cells = [cell for rows in tables.values() for row in rows for cell in row]
    # 1. An order of pool items: the order late arrivals take the free ones. Only a sorted
    #    list tells nothing (the first item in it that is now in use would be the late one's).
    for listed in (value for cell in cells for value in _lists_of(cell)):
        for pool in pools:
            if len(listed) > 1 and set(listed) <= pool:
                assert listed == sorted(listed), f"an order of free items is stored: {listed}"
    # 2. A seed that, with the public entropy, recomputes a permutation.
    opened_late = [json.loads(__import__("pyrage").decrypt(s.ciphertext, keys))
                   for s in event.session.scalars(select(draw_stages.SealedSupplement))]
    seeds += [bytes.fromhex(extra["seed"]) for extra in opened_late]
    assert len(seeds) == 4
    for seed in seeds:
        assert not any(cell in (seed, seed.hex()) or (isinstance(cell, str) and seed.hex() in cell)
                       or (isinstance(cell, bytes) and seed in cell) for cell in cells)
    # 3. The pair, or the late person with either half of it, in one row or audit event.
    for rows in tables.values():
        for row in rows:
            values = [str(v) for v in row]
            person = late.id_number in values or late.name in values
            assert not (number in values and station in values), row
            assert not (person and (number in values or station in values)), row
    for details in event.session.scalars(select(AuditEvent.details)):
        assert f'"{number}"' not in details and f'"{station}"' not in details, details
    # 4. Where a row sits: the late number is not the row written last, in any sense.
    assert [row[-1] for row in tables["contestant_number"]] == \
        sorted(row[-1] for row in tables["contestant_number"])
    station_ids = [row[1 if instance.engine.dialect.name == "postgresql" else 0]
                   for row in tables["station"]]
    assert station_ids == sorted(station_ids)
    if instance.engine.dialect.name == "postgresql":
        for table, key, value in (("contestant_number", 1, number), ("station", 2, station)):
            xmin = next(row[0] for row in tables[table] if row[key] == value)
            assert sum(row[0] == xmin for row in tables[table]) > 1, table
    else:
        path = Path(instance.engine.url.database)
        wal = Path(str(path) + "-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        for seed in seeds:
            assert seed not in raw and seed.hex().encode() not in raw
        # The order in which the free items were left at each seal, as it used to be kept.
        for stage, seed, entropy in ((1, seeds[0], "3 1 4 1 5"), (2, seeds[1], "2 7 1 8")):
            value = "contestant_no" if stage == 1 else "station"
            held = {a[value] for a in opened[stage].assignments if not a["late"]}
            pool = draw_stages.stage_pool(event.session, stage)
            left = rules.remaining(seed, entropy, stage, pool, held)
            assert len(left) > 1 and json.dumps(left).encode() not in raw


def test_a_late_draw_that_did_not_follow_its_own_seed_is_detected(event, monkeypatch):
    """The judges recompute every late draw after the seal from the seed in its supplement."""
    event.checkin(8)
    run_stage(event.session, 1)
    seal(event.session, 1)
    event.checkin(9)
    honest = draw_stages._late_draw

    def steered(stage, pool, used):
        seed, free, value = honest(stage, pool, used)
        return seed, free, next(item for item in free if item != value)

    monkeypatch.setattr(draw_stages, "_late_draw", steered)
    draw_stages.assign_late(event.session, 1, event.people[8].id_number, actor=CRYPT1,
                            now=clock.now())
    opened = opening.open_stage(event.session, 1, [event.keys["crypt1"]])
    assert not opened.verified and "late draw 1" in " ".join(opened.problems)


# ----------------------------------------------------------------------------- final once shown


def test_before_the_result_is_shown_a_redraw_is_as_before(event):
    event.checkin()
    run_stage(event.session, 1, "1 1 1")
    assert draw_stages.current_round(event.session, 1).shown_at is None
    draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now())  # no co-signature asked
    assert [r.status for r in draw_stages.history(event.session, 1)] == ["superseded", "committed"]


def test_once_shown_a_redraw_without_a_supervisor_and_a_reason_is_refused(event):
    event.checkin()
    run_stage(event.session, 1, "1 1 1")
    shown = draw_stages.show_result(event.session, 1, actor=SUPERVISOR, now=clock.now())
    round_ = shown.round
    assert round_.shown_at is not None and round_.shown_by == "sup"
    # Shown again: the first moment stays.
    first = round_.shown_at
    draw_stages.show_result(event.session, 1, actor=CRYPT1, now=clock.now())
    assert draw_stages.current_round(event.session, 1).shown_at == first
    for redraw in (None, draw_stages.Redraw(cosigner="", reason="entropy mistyped"),
                   draw_stages.Redraw(cosigner="sup", reason="  ")):
        with pytest.raises(Conflict) as refused:
            draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now(), redraw=redraw)
        assert "supervisor" in refused.value.message and "reason" in refused.value.message
    with pytest.raises(Conflict, match="supervisor"):
        draw_stages.draw_by_lots(event.session, 1, {}, actor=CRYPT1, now=clock.now())
    assert draw_stages.current_round(event.session, 1).id == round_.id  # nothing changed
    logged = [e.action for e in event.session.scalars(select(AuditEvent))]
    assert logged.count("draw.result_shown") == 1


def test_a_cosigned_redraw_after_the_result_was_shown_is_on_the_record_and_in_the_log(event):
    event.checkin()
    run_stage(event.session, 1, "1 1 1")
    old = draw_stages.show_result(event.session, 1, actor=CRYPT1, now=clock.now()).round
    draw_stages.commit(event.session, 1, actor=CRYPT1, now=clock.now(),
                       redraw=draw_stages.Redraw(cosigner="sup", reason="监督发现熵输错了"))
    assert old.status == "superseded" and old.redraw_reason == "监督发现熵输错了"
    assert old.redraw_cosigner == "sup" and old.superseded_at is not None
    event_ = event.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "draw.superseded"))
    details = json.loads(event_.details)
    assert details["reason"] == "监督发现熵输错了" and details["cosigned_by"] == "sup"
    assert details["shown_at"]
    committed = draw_stages.current_round(event.session, 1)
    draw_stages.draw(event.session, 1, "2 2 2", commitment=committed.commitment, actor=CRYPT1,
                     now=clock.now())
    mapping = draw_stages.plaintext_mapping(event.session, 1)
    assert [r.id for r in mapping.redraws] == [old.id]
