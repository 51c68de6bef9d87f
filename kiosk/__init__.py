"""kiosk: the exam-day server of a vocational skill competition, on an air-gapped LAN."""

from __future__ import annotations

__version__ = "0.1.0"


def create_app(instance_path=None, **overrides):
    """The application for one instance folder (see `kiosk.app`)."""
    # Every `import kiosk.…` runs this file first: at its top, kiosk.app would load Flask and
    # every blueprint for any of them.
    from kiosk.app import create_app as _create_app

    return _create_app(instance_path, **overrides)
