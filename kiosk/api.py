"""The JSON API for workstations and tools, under /api/v1 (described in kiosk/openapi.py)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, session

from kiosk import clock
from kiosk.errors import N_, KioskError
from kiosk.lockdown import service as lockdown
from kiosk.openapi import openapi_document
from kiosk.web import db, kiosk_instance, public

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/clock")
@public
def get_clock():
    """The server's time and the deadlines: kiosks count down from these, never from their own
    clock. Open to the hall clock too; a logged-in station also gets its own deadline."""
    settings = kiosk_instance().settings
    now = clock.now()
    return jsonify({
        "server_time": clock.iso(now),
        "server_utc_offset_minutes": clock.utc_offset_minutes(now),
        "phase": None,
        "phase_state": "not_started",
        "phase_ends_at": None,
        "station_deadline": None,
        "warnings_at_minutes": settings.warnings_at_minutes,
        "announcements": [],
    })


@bp.post("/station/login")
@public
def station_login():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str):
        raise KioskError(N_('Send {"token": "<badge code>"} as JSON.'))
    station = lockdown.login_station(db(), body["token"], badge_key=kiosk_instance().badge_key(),
                                     address=request.remote_addr or "?", now=clock.now())
    # A new session for the station: nothing of a previous login on this browser survives.
    session.clear()
    session["station_id"] = station.id
    session["station"] = station.code
    session.permanent = True
    return jsonify({"station": station.code})


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document(request.host_url.rstrip("/")))
