"""The workstation kit: .reg files that regedit accepts, JSON policies, launch scripts."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.cli import main

SECTION = re.compile(r"^\[-?HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\"
                     r"(Google\\Chrome|Microsoft\\Edge)(\\[A-Za-z]+)?\]$")
VALUE = re.compile(r'^"[A-Za-z0-9]+"=(dword:[0-9a-f]{8}|"(?:[^"\\]|\\.)*"|-)$')


def parse_reg(data: bytes) -> dict[str, dict[str, str]]:
    """A strict reader of regedit's format 5.00: BOM, header, sections, typed values."""
    assert data.startswith(b"\xff\xfe"), "regedit files are UTF-16 LE with a BOM"
    text = data[2:].decode("utf-16-le")
    lines = text.split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00"
    sections: dict[str, dict[str, str]] = {}
    current = None
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if line.startswith("["):
            assert SECTION.match(line), f"line {number}: {line}"
            current = line
            sections.setdefault(current, {})
            continue
        assert current is not None and VALUE.match(line), f"line {number}: {line}"
        name, _, value = line.partition("=")
        sections[current][name.strip('"')] = value
    return sections


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit")
    result = CliRunner().invoke(main, ["lockdown", "kit", "--server",
                                       "http://192.168.1.10:8080/", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_reg_files_parse_and_lock_the_browser_to_the_server(kit):
    edge = parse_reg((kit / "edge-policies.reg").read_bytes())
    main_key = r"[HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Edge]"
    assert edge[main_key]["DeveloperToolsAvailability"] == "dword:00000002"
    assert edge[main_key]["DownloadRestrictions"] == "dword:00000003"
    assert edge[main_key]["PrintingEnabled"] == "dword:00000000"
    assert edge[main_key]["InPrivateModeAvailability"] == "dword:00000001"
    allow = edge[main_key.replace("Edge]", r"Edge\URLAllowlist]")]
    assert allow == {"1": '"http://192.168.1.10:8080/*"'}
    block = edge[main_key.replace("Edge]", r"Edge\URLBlocklist]")]
    assert '"*"' in block.values() and '"view-source:*"' in block.values()
    chrome = parse_reg((kit / "chrome-policies.reg").read_bytes())
    assert chrome[r"[HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google\Chrome]"][
        "IncognitoModeAvailability"] == "dword:00000001"


def test_the_undo_file_removes_every_value(kit):
    undo = parse_reg((kit / "undo-policies.reg").read_bytes())
    for key, values in undo.items():
        if not key.startswith("[-"):
            assert values and set(values.values()) == {"-"}


def test_json_policies_and_launch_scripts(kit):
    chrome = json.loads((kit / "chrome-policies.json").read_text())
    assert chrome["URLAllowlist"] == ["http://192.168.1.10:8080/*"]
    edge_script = (kit / "start-edge.cmd").read_bytes().decode()
    assert "--kiosk http://192.168.1.10:8080/kiosk --edge-kiosk-type=fullscreen" in edge_script
    assert "public-browsing" not in edge_script.replace('not "public-browsing"', "")
    assert "\r\n" in edge_script  # Windows line ends


def test_a_bad_server_address_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["lockdown", "kit", "--server", "192.168.1.10",
                                       "--out", str(tmp_path / "k")])
    assert result.exit_code == 1


def test_preflight_fails_on_what_would_stop_the_day(kiosk_instance):
    result = CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), "preflight",
                                       "--json"])
    assert result.exit_code == 1  # an empty instance has no stations and no judge keys
    checks = {c["name"]: c["status"] for c in json.loads(result.output)["checks"]}
    assert checks["database"] == "ok" and checks["stations"] == "fail"
    assert checks["judge key crypt1"] == "fail"


def test_preflight_wants_backups_on_a_second_disk(instance, tmp_path):
    from kiosk.field.preflight import _backup_check

    assert _backup_check(instance).status == "warn"  # backups/ inside the instance
    assert "second disk" in _backup_check(instance).detail
    shm = Path("/dev/shm")
    if shm.is_dir() and shm.stat().st_dev != instance.path.stat().st_dev:
        folder = shm / f"kiosk-test-{tmp_path.name}"
        instance.settings.backup_dir = str(folder)
        try:
            assert _backup_check(instance).status == "ok"
        finally:
            folder.rmdir()
    instance.settings.backup_dir = "/proc/kiosk-cannot-be-here"
    assert _backup_check(instance).status == "fail"
    instance.settings.backup_interval_minutes = 0
    assert _backup_check(instance).status == "warn"
