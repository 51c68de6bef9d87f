"""The draw commands exactly as the interface names them."""

import json
import shutil
import subprocess

from click.testing import CliRunner

from kiosk.cli import main
from tests.factories import PASSWORD, make_user


def kiosk(instance, *args, input=None):
    result = CliRunner().invoke(main, ["--instance", str(instance.path), *map(str, args)],
                                input=input)
    return result


def test_checkin_draw_seal_from_the_command_line(event, kiosk_instance, tmp_path):
    people = event.people
    first = kiosk(kiosk_instance, "checkin", people[0].id_number, "--json")
    assert json.loads(first.output)["already"] is False
    again = kiosk(kiosk_instance, "checkin", people[0].id_number)
    assert "nothing changed" in again.output or "未作任何更改" in again.output
    for person in people[1:]:
        assert kiosk(kiosk_instance, "checkin", person.id_number).exit_code == 0

    committing = kiosk(kiosk_instance, "draw", "--stage", 1, "--json")
    assert committing.exit_code == 3  # committed, waiting for entropy: not a finished draw
    committed = json.loads(committing.output)
    assert len(committed["commitment"]) == 64 and committed["assignments"] == []
    assert committed == {"stage": 1, "commitment": committed["commitment"], "entropy": None,
                         "assignments": []}
    drawn = json.loads(kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "4 4 2",
                             "--json").output)
    assert drawn["commitment"] == committed["commitment"] and drawn["entropy"] == "4 4 2"
    assert set(drawn["assignments"][0]) == {"id_number", "contestant_no"}
    assert len(drawn["assignments"]) == len(people)

    records = tmp_path / "r1.pdf"
    assert kiosk(kiosk_instance, "records", "--stage", 1, "--out", records).exit_code == 0
    sealed = json.loads(kiosk(kiosk_instance, "seal", "--stage", 1, "--json").output)
    assert len(sealed["sealed_sha256"]) == 64

    assert kiosk(kiosk_instance, "draw", "--stage", 2).exit_code == 3
    stage2 = json.loads(kiosk(kiosk_instance, "draw", "--stage", 2, "--entropy", "1",
                              "--json").output)
    assert set(stage2["assignments"][0]) == {"contestant_no", "station"}
    assert kiosk(kiosk_instance, "seal", "--stage", 2).exit_code == 0

    keys = {}
    for role, identity in event.keys.items():
        keys[role] = tmp_path / f"{role}.key"
        keys[role].write_text(f"{identity}\n")
    sealed_file = next((kiosk_instance.path / "sealed").glob("draw-stage1-*.age"))
    if shutil.which("age"):
        opened = subprocess.run(["age", "-d", "-i", str(keys["crypt1"]), str(sealed_file)],
                                capture_output=True, check=True).stdout
        assert json.loads(opened)["entropy"] == "4 4 2"


def test_badges_command_writes_a_pdf_and_refuses_unknown_stations(event, kiosk_instance,
                                                                 tmp_path):
    out = tmp_path / "badges.pdf"
    ok = kiosk(kiosk_instance, "badges", "--out", out, "--stations", "A01,A02", "--json")
    assert json.loads(ok.output)["stations"] == ["A01", "A02"]
    assert out.read_bytes().startswith(b"%PDF")
    bad = kiosk(kiosk_instance, "badges", "--out", out, "--stations", "Z99")
    assert bad.exit_code == 1 and "Z99" in bad.output


def test_checking_in_someone_not_on_the_roster_fails_cleanly(event, kiosk_instance):
    result = kiosk(kiosk_instance, "checkin", "110105194912310029")
    assert result.exit_code == 1


def test_draw_refuses_to_commit_and_draw_in_one_call(event, kiosk_instance):
    """The entropy must come after the commitment was shown: one call cannot do both."""
    from kiosk.checkin.models import DrawRound

    event.checkin()
    refused = kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "4 4 2", "--json")
    assert refused.exit_code == 1
    assert "承诺值" in json.loads(refused.output)["message"]
    assert event.session.query(DrawRound).count() == 0  # not even a commitment was made


def test_draw_without_entropy_exits_3_until_the_entropy_comes(event, kiosk_instance):
    event.checkin()
    first = kiosk(kiosk_instance, "draw", "--stage", 1)
    again = kiosk(kiosk_instance, "draw", "--stage", 1, "--json")
    assert first.exit_code == again.exit_code == 3
    commitment = json.loads(again.output)["commitment"]
    assert commitment in first.output  # the same commitment, shown again
    stale = kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "5", "--commitment",
                  "0" * 64)
    assert stale.exit_code == 1
    drawn = kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "5", "--commitment",
                  commitment, "--json")
    assert drawn.exit_code == 0 and json.loads(drawn.output)["commitment"] == commitment


def test_draw_refuses_the_entropy_of_a_superseded_round(event, kiosk_instance):
    event.checkin()
    kiosk(kiosk_instance, "draw", "--stage", 1)
    assert kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "4 4 2").exit_code == 0
    assert kiosk(kiosk_instance, "draw", "--stage", 1).exit_code == 3  # a redraw: new round
    reused = kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "4 4 2", "--json")
    assert reused.exit_code == 1 and "作废" in json.loads(reused.output)["message"]


def test_after_the_command_printed_the_pairs_a_redraw_needs_a_supervisor(event, kiosk_instance,
                                                                        monkeypatch):
    make_user(event.session, "supervisor", username="sup")
    event.checkin()
    kiosk(kiosk_instance, "draw", "--stage", 1)
    shown = kiosk(kiosk_instance, "draw", "--stage", 1, "--entropy", "4 4 2", "--json")
    assert shown.exit_code == 0 and json.loads(shown.output)["assignments"]  # pairs printed
    refused = kiosk(kiosk_instance, "draw", "--stage", 1, "--json")
    assert refused.exit_code == 1 and "监督人员会签" in json.loads(refused.output)["message"]
    monkeypatch.setenv("KIOSK_SUPERVISOR_PASSWORD", "not-the-password")
    wrong = kiosk(kiosk_instance, "draw", "--stage", 1, "--supervisor", "sup", "--reason",
                  "熵输错了")
    assert wrong.exit_code == 1
    monkeypatch.setenv("KIOSK_SUPERVISOR_PASSWORD", PASSWORD)
    redrawn = kiosk(kiosk_instance, "draw", "--stage", 1, "--supervisor", "sup", "--reason",
                    "熵输错了")
    assert redrawn.exit_code == 3  # a new commitment, waiting for entropy
    from kiosk.checkin import draw_stages

    old = draw_stages.history(event.session, 1)[0]
    event.session.refresh(old)
    assert old.redraw_reason == "熵输错了" and old.redraw_cosigner == "sup"
