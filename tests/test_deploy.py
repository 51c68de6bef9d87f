"""The deployment files say what the runbook promises."""

import configparser
import shlex
from pathlib import Path

from click.testing import CliRunner

from kiosk.cli import main

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_systemd_unit_restarts_on_failure_and_raises_the_file_limit():
    unit = configparser.ConfigParser(strict=True, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(DEPLOY / "linux" / "kiosk.service", encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert int(service["LimitNOFILE"]) >= 4096
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/kiosk") and command[1] == "serve"
    # Every option of ExecStart is one `kiosk serve` accepts.
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    for option in (arg for arg in command[2:] if arg.startswith("--")):
        assert option in help_text
    assert service["Environment"].startswith("KIOSK_INSTANCE=")
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_windows_service_runs_kiosk_serve_and_restarts_it():
    import xml.etree.ElementTree as ElementTree

    # Our own file from the repository, not untrusted input.
    service = ElementTree.parse(DEPLOY / "windows" / "kiosk-service.xml").getroot()  # noqa: S314
    assert service.findtext("executable").endswith("kiosk.exe")
    arguments = shlex.split(service.findtext("arguments"), posix=False)
    assert arguments[2] == "serve"
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    for option in (arg for arg in arguments[3:] if arg.startswith("--")):
        assert option in help_text
    assert [f.get("action") for f in service.findall("onfailure")] == ["restart"] * 3
    assert service.findtext("startmode") == "Automatic"
    script = (DEPLOY / "windows" / "install-service.ps1").read_text("utf-8")
    assert "kiosk-service.xml" in script and "512" in script  # the select() limit, explained
