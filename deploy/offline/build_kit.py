#!/usr/bin/env python3
"""Build the offline install kit on a machine with internet access.

    python3 deploy/offline/build_kit.py --out kiosk-kit

The kit holds kiosk's own wheel, every dependency as a wheel for Linux x86_64 and for Windows
amd64 (CPython of the same minor version as the target server, default this one's), the
install scripts, and SHA256SUMS. On the air-gapped server:

    Linux:    sh install.sh            (pip install --no-index --find-links wheels/…)
    Windows:  powershell -ExecutionPolicy Bypass -File install.ps1

Why the explicit Windows list: `pip download --platform win_amd64` evaluates environment markers
for the machine it runs on, so dependencies that only Windows needs (colorama through click and
qrcode, tzdata through psycopg) are silently left out. They are listed below, and the kit is then
checked: every requirement of kiosk[postgres], with markers evaluated as on Windows (and as on
Linux for the Linux set), must have a wheel in the kit, or the build fails naming it.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a bare Python: pip always carries its own copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
EXTRAS = ("postgres",)
# Needed on Windows only, behind markers that `pip download` evaluates for this machine.
WINDOWS_ONLY = ["colorama", "tzdata"]
PLATFORMS = {
    "linux": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
              "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"],
    "windows": ["win_amd64"],
}


def environment(system: str, python: str) -> dict[str, str]:
    """Marker variables of the target server (PEP 508)."""
    windows = system == "windows"
    return {"os_name": "nt" if windows else "posix",
            "sys_platform": "win32" if windows else "linux",
            "platform_system": "Windows" if windows else "Linux",
            "platform_machine": "AMD64" if windows else "x86_64",
            "platform_python_implementation": "CPython", "implementation_name": "cpython",
            "python_version": python, "python_full_version": f"{python}.0",
            "implementation_version": f"{python}.0", "platform_release": "",
            "platform_version": "", "extra": ""}


def requirements() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options"]["install_requires"].split("\n")
    for extra in EXTRAS:
        lines += config["options.extras_require"][extra].split("\n")
    return [line.strip() for line in lines if line.strip()]


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def download(folder: Path, system: str, python: str, names: list[str]) -> None:
    platforms = [arg for p in PLATFORMS[system] for arg in ("--platform", p)]
    pip("download", "--quiet", "--only-binary=:all:", "--python-version", python,
        "--implementation", "cp", *platforms, "--dest", str(folder), *names)


def wheel_metadata(path: Path) -> tuple[str, list[str]]:
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist()
                    if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        message = Parser().parsestr(archive.read(name).decode("utf-8"))
    return canonicalize_name(message["Name"]), message.get_all("Requires-Dist") or []


def missing(folders: list[Path], env: dict[str, str], root: str) -> list[str]:
    """Every requirement reachable from `root` under `env` that has no wheel in `folders`."""
    available = {}
    for folder in folders:
        for path in folder.glob("*.whl"):
            name, requires = wheel_metadata(path)
            available[name] = requires
    wanted, seen, absent = [Requirement(root)], set(), []
    while wanted:
        requirement = wanted.pop()
        key = (canonicalize_name(requirement.name), tuple(sorted(requirement.extras)))
        if key in seen:
            continue
        seen.add(key)
        requires = available.get(key[0])
        if requires is None:
            absent.append(str(requirement))
            continue
        for text in requires:
            child = Requirement(text)
            if child.marker is None or any(
                    child.marker.evaluate({**env, "extra": extra})
                    for extra in (requirement.extras or {""})):
                wanted.append(child)
    return sorted(absent)


def sha256sums(kit: Path) -> None:
    lines = []
    for path in sorted(p for p in kit.rglob("*") if p.is_file() and p.name != "SHA256SUMS"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(kit).as_posix()}")
    (kit / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")


def build(out: Path, python: str, systems: list[str]) -> dict:
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty")
    common = out / "wheels" / "common"
    common.mkdir(parents=True)
    pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(common), str(ROOT))
    kiosk_wheel = next(common.glob("kiosk-*.whl"))
    root = f"kiosk[{','.join(EXTRAS)}]"
    report = {"python": python, "kiosk": kiosk_wheel.name}
    for system in systems:
        folder = out / "wheels" / system
        folder.mkdir()
        download(folder, system, python, requirements())
        if system == "windows":
            download(folder, system, python, WINDOWS_ONLY)
        absent = missing([common, folder], environment(system, python), root)
        if absent:
            raise SystemExit(f"the {system} kit lacks: {', '.join(absent)}")
        report[system] = len(list(folder.glob("*.whl")))
    for name in ("install.sh", "install.ps1", "README.md"):
        shutil.copy2(HERE / name, out / name)
    (out / "PYTHON_VERSION").write_text(python + "\n", encoding="ascii")
    sha256sums(out)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--python", default=f"{sys.version_info.major}.{sys.version_info.minor}",
                        help="the target server's Python minor version (default: this one)")
    parser.add_argument("--only", choices=sorted(PLATFORMS), action="append",
                        help="build for this system only (repeatable; default: both)")
    args = parser.parse_args()
    report = build(args.out, args.python, args.only or sorted(PLATFORMS))
    print(" ".join(f"{k}={v}" for k, v in report.items()))


if __name__ == "__main__":
    main()
