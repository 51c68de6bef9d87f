"""What the workstation's page reports (focus lost, full screen left, copy attempts …), and what
each kind is called on the pages. Shown to field judges; never punished automatically."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from kiosk.db import write_transaction
from kiosk.errors import N_
from kiosk.stations.binding import REFUSED_WORKSTATION
from kiosk.stations.models import TelemetryEvent

TELEMETRY_KINDS = ("blur", "hidden", "fullscreen_exit", "copy", "paste", "cut", "contextmenu",
                   "print", "devtools_key", "selection")
MAX_TELEMETRY_PER_REQUEST = 20

# What each reported kind means, for the dashboard and the station page (a kind missing here is
# shown with its raw name).
TELEMETRY_LABELS = {
    "blur": N_("Left the exam window"),
    "hidden": N_("Exam page hidden"),
    "fullscreen_exit": N_("Left full screen"),
    "copy": N_("Tried to copy"),
    "paste": N_("Tried to paste"),
    "cut": N_("Tried to cut"),
    "contextmenu": N_("Right-click menu"),
    "print": N_("Tried to print"),
    "devtools_key": N_("Developer-tools key"),
    "selection": N_("Text selected"),
    REFUSED_WORKSTATION: N_("Sign-in refused on another workstation"),
}


def telemetry_label(kind: str) -> str | None:
    """The msgid naming a reported kind, or None: the page then shows the raw name."""
    return TELEMETRY_LABELS.get(kind)


def record_telemetry(session: Session, station_id: int, events: list, *, now: datetime) -> int:
    kept = []
    for event in events[:MAX_TELEMETRY_PER_REQUEST]:
        if not isinstance(event, dict) or event.get("kind") not in TELEMETRY_KINDS:
            continue
        detail = str(event.get("detail", ""))[:200]
        kept.append(TelemetryEvent(station_id=station_id, kind=event["kind"], at=now,
                                   detail=detail))
    if kept:
        with write_transaction(session):
            session.add_all(kept)
    return len(kept)
