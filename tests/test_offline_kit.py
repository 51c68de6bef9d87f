"""The offline install kit: built once (needs PyPI, as on the organisers' connected machine),
then installed with no index at all, and its Windows set checked as Windows would resolve it."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

KIT_SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "offline" / "build_kit.py"


def _build_kit_module():
    spec = importlib.util.spec_from_file_location("build_kit", KIT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit") / "kiosk-kit"
    subprocess.run([sys.executable, str(KIT_SCRIPT), "--out", str(out)], check=True,
                   capture_output=True)
    return out


def test_every_requirement_has_a_wheel_for_linux_and_for_windows(kit):
    build_kit = _build_kit_module()
    python = (kit / "PYTHON_VERSION").read_text().strip()
    for system in ("linux", "windows"):
        env = build_kit.environment(system, python)
        assert build_kit.missing([kit / "wheels" / "common", kit / "wheels" / system], env,
                                 "kiosk[postgres]") == []
    windows = {path.name.split("-")[0].lower() for path in (kit / "wheels" / "windows").iterdir()}
    assert {"colorama", "tzdata", "psycopg_binary"} <= windows
    assert all(path.name.endswith(("win_amd64.whl", "none-any.whl"))
               for path in (kit / "wheels" / "windows").iterdir())


def test_the_check_names_what_pip_download_leaves_out_for_windows(kit, tmp_path):
    build_kit = _build_kit_module()
    folder = tmp_path / "windows"
    shutil.copytree(kit / "wheels" / "windows", folder)
    for path in folder.iterdir():
        if path.name.lower().startswith(("colorama", "tzdata")):
            path.unlink()
    env = build_kit.environment("windows", (kit / "PYTHON_VERSION").read_text().strip())
    absent = build_kit.missing([kit / "wheels" / "common", folder], env, "kiosk[postgres]")
    assert {a.split(";")[0].split(">")[0].split("=")[0].strip() for a in absent} == {
        "colorama", "tzdata"}
    # On Linux neither is needed: the markers are evaluated for the target, not for here.
    linux = build_kit.environment("linux", "3.11")
    assert build_kit.missing([kit / "wheels" / "common", kit / "wheels" / "linux"], linux,
                             "kiosk[postgres]") == []


def _offline_env() -> dict:
    """No pip configuration at all: only the kit's wheels can satisfy the install."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull}


def test_the_kit_installs_with_no_index_and_refuses_a_damaged_file(kit, tmp_path):
    prefix = tmp_path / "opt"
    installed = subprocess.run(["sh", str(kit / "install.sh"), str(prefix)],
                               capture_output=True, text=True, env=_offline_env())
    assert installed.returncode == 0, installed.stderr
    help_text = subprocess.run([str(prefix / "venv" / "bin" / "kiosk"), "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "rehearse" in help_text and "backup" in help_text
    damaged = tmp_path / "damaged-kit"
    shutil.copytree(kit, damaged)
    wheel = next((damaged / "wheels" / "linux").glob("waitress-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    refused = subprocess.run(["sh", str(damaged / "install.sh"), str(tmp_path / "opt2")],
                             capture_output=True, text=True, env=_offline_env())
    assert refused.returncode != 0 and "waitress" in refused.stdout + refused.stderr
    assert not (tmp_path / "opt2").exists()
