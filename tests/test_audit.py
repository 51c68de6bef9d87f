import re
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, update

from kiosk import audit, clock
from kiosk.cli import main
from kiosk.db import write_transaction
from kiosk.models import AuditEvent, AuditHead
from tests.actors import CHIEF
from tests.factories import PASSWORD, login, make_user


def _record(session, actor, now, count=5):
    for i in range(count):
        with write_transaction(session):
            audit.record(session, actor, "test.step", at=now, subject=f"s{i}",
                         details={"n": i, "名字": "张三"})


def test_a_clean_chain_verifies(session, actor, now):
    _record(session, actor, now)
    report = audit.verify_chain(session)
    assert report.ok and report.events == 5


def test_a_changed_event_is_named(session, actor, now):
    _record(session, actor, now)
    with write_transaction(session):
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3)
                        .values(details='{"n":99}'))
    report = audit.verify_chain(session)
    assert not report.ok and report.first_broken == 3
    assert "changed" in report.reason


def test_a_removed_event_is_named(session, actor, now):
    _record(session, actor, now)
    with write_transaction(session):
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 2))
    report = audit.verify_chain(session)
    assert report.first_broken == 2


def test_a_removed_tail_is_detected(session, actor, now):
    _record(session, actor, now)
    with write_transaction(session):
        session.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
    report = audit.verify_chain(session)
    assert not report.ok and report.first_broken == 4


def test_a_rewritten_chain_without_the_head_is_detected(session, actor, now):
    """Recomputing every hash after a change still leaves the head row pointing elsewhere."""
    _record(session, actor, now)
    with write_transaction(session):
        head = session.get(AuditHead, 1)
        head.last_hash = "f" * 64
    assert not audit.verify_chain(session).ok


def test_cli_audit_verify_exits_nonzero_and_names_the_event(kiosk_instance, actor, now):
    instance = kiosk_instance.open()
    with instance.session() as session:
        _record(session, actor, now)
    runner = CliRunner()
    ok = runner.invoke(main, ["--instance", str(kiosk_instance.path), "audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "5" in ok.output
    with instance.session() as session, write_transaction(session):
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(actor="mallory"))
    instance.engine.dispose()
    broken = runner.invoke(main, ["audit", "verify", "--json", "--instance",
                                  str(kiosk_instance.path)])
    assert broken.exit_code == 1
    assert '"first_broken": 4' in broken.output


def test_events_are_listed_newest_first_with_filters(session, actor, now):
    _record(session, actor, now)
    with write_transaction(session):
        audit.record(session, audit.Actor("other"), "staff.login", at=now)
    events = audit.list_events(session, action="test.")
    assert [e.seq for e in events] == [5, 4, 3, 2, 1]
    assert [e.seq for e in audit.list_events(session, actor="other")] == [6]
    assert [e.seq for e in audit.list_events(session, before_seq=3)] == [2, 1]


# ----------------------------------------------------------------------------- how it reads

def test_a_co_signature_is_recorded_as_one_not_as_a_login(instance, now):
    from kiosk import staff
    from kiosk.errors import Forbidden

    with instance.session() as session:
        make_user(session, "supervisor", username="sup")
        make_user(session, "field", username="li")
        staff.cosign(session, "sup", PASSWORD, role="supervisor", address="10.0.0.5",
                     device=None, now=now, limit_per_minute=5)
        with pytest.raises(Forbidden):
            staff.cosign(session, "li", PASSWORD, role="supervisor", address="10.0.0.5",
                         device=None, now=now, limit_per_minute=5)
        events = [(e.action, e.actor) for e in audit.list_events(session)]
    assert ("staff.cosign", "sup") in events
    assert ("staff.cosign_refused", "li") in events  # a field judge cannot co-sign
    assert all(action != "staff.login" for action, _who in events)


def test_every_recorded_action_has_a_label():
    """The audit page names each action in words; a new action without a label shows raw."""
    import ast
    import re
    from pathlib import Path

    import kiosk

    recorded = set()
    for path in Path(kiosk.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "record"
                    and len(node.args) >= 3):
                recorded |= {c.value for c in ast.walk(node.args[2])
                             if isinstance(c, ast.Constant) and isinstance(c.value, str)
                             and re.fullmatch(r"[a-z_]+\.[a-z_]+", c.value)}
    recorded |= {"staff.cosign", "staff.cosign_failed", "staff.cosign_refused"}
    assert sorted(recorded - set(audit.ACTION_LABELS)) == []


def test_details_read_as_words_and_values_not_json():
    shown = audit.readable_details(
        '{"address":"10.0.0.5","device":true,"reason":"设备故障","sha256":"' + "ab" * 32 + '"}')
    labels = dict(shown)
    assert labels["Address"] == "10.0.0.5"
    assert labels["Trusted device"] == "yes"
    assert labels["Reason"] == "设备故障"
    assert labels["SHA-256"].startswith("abababab") and len(labels["SHA-256"]) < 64
    assert audit.readable_details('{"new_key":{"a":1}}') == [("new_key", "a: 1")]
    assert audit.readable_details("not json") == [("", "not json")]
    assert audit.readable_details("{}") == []


def test_an_unknown_action_keeps_its_raw_name():
    assert audit.action_label("something.new") is None
    assert audit.action_label("staff.login") == "Signed in"


def _audit_client(app, events):
    with app.extensions["kiosk"].session() as session:
        make_user(session, "supervisor", username="sup")
        with write_transaction(session):
            for actor, action, subject in events:
                audit.record(session, actor, action, at=clock.now(), subject=subject)
    client = app.test_client()
    login(client, "sup")
    return client


def _cells(html):
    return [re.sub(r"<[^>]+>", "", row) for row in re.findall(r"<tr data-action.*?</tr>", html,
                                                               re.S)]


def test_subjects_and_station_actors_read_in_words_but_are_stored_raw(app):
    crypt, scorer = audit.Actor("li", "crypt1"), audit.Actor("wang", "scorer")
    client = _audit_client(app, [
        (crypt, "draw.drawn", "stage 1"), (crypt, "draw.drawn", "stage 2"),
        (scorer, "marks.entered", "entry 1"), (scorer, "marks.entered", "entry 2"),
        (audit.Actor("station:A01", "station"), "station.login", "A01")])
    shown = " ".join(_cells(client.get("/audit").text))
    for raw in ("stage 1", "stage 2", "entry 1", "entry 2", "station:A01"):
        assert raw not in shown, raw
    for words in ("一次抽签", "二次抽签", "第一次录入", "第二次录入", "工位机 A01"):
        assert words in shown, words
    with app.extensions["kiosk"].session() as session:
        stored = {(e.actor, e.subject) for e in audit.list_events(session)}
        assert ("station:A01", "A01") in stored and ("li", "stage 1") in stored
        assert audit.verify_chain(session).ok


def test_the_servers_own_grading_reads_as_the_server_in_words(app):
    """The theory's grading is recorded by the server itself (exam.GRADER), not by a person."""
    from kiosk.theory_exam import exam

    client = _audit_client(app, [(exam.GRADER, "exam.graded", "")])
    page = client.get("/audit").text
    assert "理论试卷已评分：成绩已记录" in page
    assert "服务器（系统）" in page


def test_the_action_filter_takes_the_words_shown(app):
    client = _audit_client(app, [
        (CHIEF, "draw.superseded", "stage 1"), (CHIEF, "phase.paused", "theory"),
        (CHIEF, "phase.resumed", "theory")])
    for typed, wanted in [("重新抽签", {"draw.superseded"}), ("暂停", {"phase.paused"}),
                          ("暂停考试", {"phase.paused"}),
                          ("phase.", {"phase.paused", "phase.resumed"}),
                          ("draw.superseded", {"draw.superseded"})]:
        html = client.get("/audit?action=" + quote(typed)).text
        assert set(re.findall(r'<tr data-action="([^"]+)"', html)) == wanted, typed


def test_the_action_suggestions_are_the_labels_people_read(app):
    html = _audit_client(app, []).get("/audit").text
    assert '<option value="暂停考试"' in html
    assert '<option value="phase.paused"' not in html


def test_typed_action_words_map_to_their_codes():
    chinese = {"Phase paused": "暂停考试"}
    assert audit.actions_matching("暂停", lambda m: chinese.get(m, m)) == ["phase.paused"]
    assert "phase.paused" in audit.actions_matching("paused")
    assert audit.actions_matching("没有这个操作", lambda m: m) == []


def test_the_who_filter_takes_a_workstation_as_it_is_shown(app):
    client = _audit_client(app, [(audit.Actor("station:A01", "station"), "station.login", "A01"),
                                 (audit.Actor("station:A02", "station"), "station.login", "A02")])
    for typed in ("工位机 A01", "station:A01"):
        html = client.get("/audit?actor=" + quote(typed)).text
        assert [c.split("工位机 ")[1][:3] for c in _cells(html)] == ["A01"], typed
