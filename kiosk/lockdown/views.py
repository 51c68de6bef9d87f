"""The contestant's workstation: badge login and the waiting screen (the exam joins in issue 4)."""

from __future__ import annotations

from flask import Blueprint, render_template, session

from kiosk.lockdown.models import Station
from kiosk.web import db, public

bp = Blueprint("kiosk", __name__, template_folder="templates")


@bp.get("/kiosk")
@public
def kiosk_page():
    station = None
    if session.get("station_id"):
        station = db().get(Station, session["station_id"])
    return render_template("lockdown/kiosk.html", station=station)
