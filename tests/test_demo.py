import json
import re
from pathlib import Path

import pyrage
from click.testing import CliRunner

from kiosk.checkin.models import Contestant
from kiosk.cli import main
from kiosk.instance import open_instance
from kiosk.models import AuditEvent, JudgeKey, StaffUser
from kiosk.stations.models import Station
from kiosk.theory_exam.models import Question
from tests.factories import csrf_from


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


def _demo_text(tmp_path, monkeypatch, *, addresses=None, fonts=None):
    from kiosk import network, pdf

    if addresses is not None:
        monkeypatch.setattr(network, "lan_addresses", lambda: addresses)
    if fonts is not None:
        monkeypatch.setattr(pdf, "KNOWN_FONTS", fonts)
    monkeypatch.setenv("KIOSK_LANG", "zh_Hans_CN")
    result = CliRunner().invoke(main, ["--instance", str(tmp_path / "demo"), "demo",
                                       "--no-serve"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_prints_the_addresses_workstations_on_the_lan_can_reach(tmp_path, monkeypatch):
    # 203.0.113.9 is outside the allowed (private) networks: the server would refuse it.
    text = _demo_text(tmp_path, monkeypatch, addresses=["10.20.0.5", "203.0.113.9",
                                                        "192.168.1.40"])
    assert "http://10.20.0.5:8080/kiosk" in text
    assert "http://192.168.1.40:8080/login" in text
    assert "203.0.113.9" not in text
    for heading in ("地址", "工作人员账号", "演示裁判密钥"):
        assert heading in text, heading


def test_the_demo_says_when_no_address_is_reachable_from_the_lan(tmp_path, monkeypatch):
    text = _demo_text(tmp_path, monkeypatch, addresses=["203.0.113.9"])
    assert "http://127.0.0.1:8080/login" in text
    assert "局域网" in text and "allowed_networks" in text


def test_the_demo_says_plainly_what_to_install_when_pdfs_cannot_print(tmp_path, monkeypatch):
    text = _demo_text(tmp_path, monkeypatch, addresses=[], fonts=[])
    assert "sudo apt-get install fonts-wqy-zenhei" in text
    assert "PDF" in text


def test_the_demo_names_the_font_its_pdfs_embed(tmp_path, monkeypatch):
    import pytest

    from kiosk.pdf import FontMissing, find_cjk_font

    try:
        font = find_cjk_font()
    except FontMissing:
        pytest.skip("no CJK font on this machine")
    assert str(font.path) in _demo_text(tmp_path, monkeypatch, addresses=[])


def test_lan_addresses_finds_every_interface_address_of_this_machine():
    import shutil
    import subprocess

    import pytest

    from kiosk.network import lan_addresses

    if not shutil.which("ip"):
        pytest.skip("no ip command to compare with")
    shown = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    expected = {line.split()[3].split("/")[0] for line in shown.splitlines()}
    expected = {a for a in expected if not a.startswith("127.")}
    assert expected <= set(lan_addresses())


README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readmes_documentation_table_is_one_table_and_every_link_opens():
    text = README.read_text("utf-8")
    section = text.split("## Documentation", 1)[1].split("\n## ", 1)[0].strip()
    rows = section.splitlines()
    assert all(row.startswith("|") for row in rows), "a blank or stray line splits the table"
    for target in re.findall(r"\]\(([^)#]+)\)", section):
        assert (README.parent / target).exists(), target


def test_the_readmes_first_command_installs_a_font_the_pdfs_find():
    from kiosk.pdf import KNOWN_FONTS

    first = re.search(r"```sh\n(.+?)\n```", README.read_text("utf-8"), re.S).group(1)
    assert "kiosk demo" in first
    # Debian's package for the first font the PDFs look for.
    assert "fonts-wqy-zenhei" in first
    assert KNOWN_FONTS[0][0].name == "wqy-zenhei.ttc"
    assert "python3-venv" in first  # Debian's python3 has no venv without it


def test_the_demo_lists_each_role_by_the_name_the_pages_use(tmp_path, monkeypatch):
    text = _demo_text(tmp_path, monkeypatch, addresses=[])
    accounts = text.split("工作人员账号")[1].split("演示裁判密钥")[0]
    keys = text.split("演示裁判密钥")[1]
    for line, role in [("chief", "裁判长"), ("crypt1", "一次加密裁判"), ("scorer1", "记分员"),
                       ("supervisor", "监督人员")]:
        assert re.search(rf"^\s*{line}\s+{role}\s", accounts, re.M), (line, accounts)
    assert re.search(r"^\s*一次加密裁判\s+age1", keys, re.M), keys
    assert not re.search(r"^\s*(crypt1|archive)\s+age1", keys, re.M)


def test_demo_help_says_what_host_is_for_in_both_languages():
    for env, words in (({"KIOSK_LANG": None}, "监听地址"), ({"KIOSK_LANG": "en"}, "listen on")):
        result = CliRunner().invoke(main, ["demo", "--help"], env=env)
        assert result.exit_code == 0, result.output
        host = re.search(r"--host TEXT(.*?)--port", result.output, re.S).group(1)
        assert words in host, result.output
