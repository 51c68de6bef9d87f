from click.testing import CliRunner
from sqlalchemy import delete, update

from kiosk import audit
from kiosk.cli import main
from kiosk.db import write_transaction
from kiosk.models import AuditEvent, AuditHead


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
