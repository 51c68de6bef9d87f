import json

import pyrage
from click.testing import CliRunner

from kiosk.checkin.models import Contestant
from kiosk.cli import main
from kiosk.instance import open_instance
from kiosk.lockdown.models import Station
from kiosk.models import AuditEvent, JudgeKey, StaffUser
from kiosk.theory_exam.models import Question


def test_demo_builds_a_complete_event_and_reports_it_as_json(tmp_path):
    path = tmp_path / "demo"
    result = CliRunner().invoke(main, ["--instance", str(path), "demo", "--no-serve", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["url"].startswith("http://")
    roles = {u["role"] for u in data["users"]}
    assert roles == {"chief", "checkin", "crypt1", "crypt2", "field", "scorer", "supervisor"}
    assert {k["role"] for k in data["judge_keys"]} == {"crypt1", "crypt2", "archive"}
    instance = open_instance(path)
    with instance.session() as session:
        assert session.query(Station).count() == 60
        assert session.query(Contestant).count() == 60
        assert session.query(Question).count() >= 150
        assert session.query(StaffUser).count() == len(data["users"])
        assert session.query(JudgeKey).count() == 3
        assert session.query(AuditEvent).count() > 0
    # The demo identity files really open what is encrypted to the registered recipients.
    for key in data["judge_keys"]:
        lines = open(key["identity_file"], encoding="ascii").read().splitlines()  # noqa: SIM115
        identity = pyrage.x25519.Identity.from_str(next(x for x in lines if x.startswith("AGE-")))
        secret = pyrage.encrypt(b"sealed", [pyrage.x25519.Recipient.from_str(key["recipient"])])
        assert pyrage.decrypt(secret, [identity]) == b"sealed"
    # Running it again reuses the demo (same logins); a real instance is never touched.
    again = CliRunner().invoke(main, ["--instance", str(path), "demo", "--no-serve", "--json"])
    assert json.loads(again.output)["users"] == data["users"]


def test_demo_never_touches_a_real_instance(tmp_path):
    path = tmp_path / "real"
    assert CliRunner().invoke(main, ["--instance", str(path), "init"]).exit_code == 0
    result = CliRunner().invoke(main, ["--instance", str(path), "demo", "--no-serve"])
    assert result.exit_code == 1
    assert "not a demo" in result.output


def test_demo_staff_can_sign_in_in_chinese(tmp_path):
    from kiosk import create_app
    from tests.conftest import csrf_from

    path = tmp_path / "demo"
    data = json.loads(CliRunner().invoke(main, ["--instance", str(path), "demo",
                                                "--no-serve", "--json"]).output)
    client = create_app(path, testing=True).test_client()
    supervisor = next(u for u in data["users"] if u["role"] == "supervisor")
    page = client.get("/login")
    response = client.post("/login", data={"username": supervisor["username"],
                                           "password": supervisor["password"],
                                           "csrf_token": csrf_from(page.text)},
                           follow_redirects=True)
    assert "监督" in response.text
    audit_page = client.get("/audit")
    assert "roster.imported" in audit_page.text
