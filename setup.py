"""Everything is declared in setup.cfg; this file only maps the top-level `seed/` folder into the
package as `kiosk.seed`, which setup.cfg cannot express next to `packages = find:`."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["kiosk", "kiosk.*"]), "kiosk.seed"],
    package_dir={"kiosk.seed": "seed"},
    package_data={"kiosk.seed": ["*.csv", "*.json", "*.xlsx", "*.docx", "*.md",
                               "timetables/*.toml"]},
)
