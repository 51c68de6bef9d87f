"""From the marks to the signed sheet with the `kiosk` command, as the interface names it."""

import json

from click.testing import CliRunner
from pypdf import PdfReader

from kiosk.cli import main
from tests.factories import PASSWORD


def kiosk(instance, *args, env=None):
    return CliRunner().invoke(main, ["--instance", str(instance.path), *map(str, args)],
                              env=env or {})


def test_marks_review_lock_unseal_results(day, kiosk_instance, tmp_path):
    marks = tmp_path / "marks.csv"
    marks.write_text("赛位号,分数\n" + "".join(f"{code},{60 + i}.5\n"
                                            for i, code in enumerate(day.stations)),
                     encoding="utf-8")
    for entry in (1, 2):
        assert kiosk(kiosk_instance, "scores", "import", marks, "--entry", entry).exit_code == 0
    keys = {}
    for role, identity in day.event.keys.items():
        keys[role] = tmp_path / f"{role}.key"
        keys[role].write_text(f"{identity}\n")
    env = {"KIOSK_SUPERVISOR_PASSWORD": PASSWORD}
    early = kiosk(kiosk_instance, "unseal", "--identity", keys["crypt2"], "--supervisor", "sup",
                  env=env)
    assert early.exit_code == 1 and ("locked" in early.output or "锁定" in early.output)
    refused = kiosk(kiosk_instance, "results", "--json")
    assert refused.exit_code == 1 and json.loads(refused.output)["error"] == "conflict"

    deduct = kiosk(kiosk_instance, "scores", "deduct", day.stations[0], "5%", "--reason",
                   "着装不规范", "--approved-by", "裁判长", "--json")
    assert json.loads(deduct.output)["unit"] == "percent"
    drawn = json.loads(kiosk(kiosk_instance, "review", "draw", "--json").output)
    assert drawn["drawn"] and drawn["total"] == 6 and len(drawn["seed"]) == 64
    for item in drawn["items"]:
        assert kiosk(kiosk_instance, "review", "confirm", item["station"]).exit_code == 0
    locked = json.loads(kiosk(kiosk_instance, "scores", "lock", "--json").output)
    assert len(locked["sha256"]) == 64

    stations_only = json.loads(kiosk(kiosk_instance, "results", "--json").output)
    assert stations_only["sealed"] and stations_only["groups"][0]["group"] is None
    assert all(r["name"] is None for r in stations_only["groups"][0]["ranking"])

    wrong_password = kiosk(kiosk_instance, "unseal", "--identity", keys["crypt2"],
                           "--supervisor", "sup", env={"KIOSK_SUPERVISOR_PASSWORD": "nope"})
    assert wrong_password.exit_code == 1
    layer = json.loads(kiosk(kiosk_instance, "unseal", "--identity", keys["crypt2"],
                             "--supervisor", "sup", "--json", env=env).output)
    assert [s["stage"] for s in layer["stages"]] == [2] and layer["links"] == []
    both = kiosk(kiosk_instance, "unseal", "--identity", keys["crypt1"], "--supervisor", "sup",
                 "--json", env=env)
    assert both.exit_code == 0, both.output
    links = json.loads(both.output)["links"]
    assert {link["station"]: link["id_number"] for link in links} == day.truth

    data = json.loads(kiosk(kiosk_instance, "results", "--json").output)
    assert not data["sealed"]
    assert {g["group"] for g in data["groups"]} == {"职工组", "学生组"}
    first = data["groups"][0]["ranking"][0]
    assert first["rank"] == 1 and first["award"] == "一等奖" and first["name"]
    assert isinstance(first["total"], int | float)
    pdf, xlsx = tmp_path / "成绩汇总表.pdf", tmp_path / "results.xlsx"
    assert kiosk(kiosk_instance, "results", "--out", pdf).exit_code == 0
    assert kiosk(kiosk_instance, "results", "--out", xlsx).exit_code == 0
    assert "成绩汇总表" in PdfReader(pdf).pages[0].extract_text()
    assert xlsx.read_bytes()[:2] == b"PK"
