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
