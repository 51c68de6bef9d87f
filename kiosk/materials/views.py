"""Task books (任务书/赛题资料): the chief judge's page, who fetched what for the field judges,
and the stations' API (`/api/v1/materials`)."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from kiosk import clock, permissions
from kiosk.collect.hand_ins import size_text
from kiosk.errors import KioskError
from kiosk.i18n import gettext
from kiosk.materials import task_books
from kiosk.materials.models import Material
from kiosk.stations.models import Station
from kiosk.stations.phases import STATE_LABELS
from kiosk.web import (
    IMPORT_BODY_LIMIT,
    MiB,
    body_limit,
    current_actor,
    db,
    kiosk_instance,
    requires,
    station_required,
    translated,
)

bp = Blueprint("materials", __name__, template_folder="templates")

# No menu entry of its own (the staff header stays one line): the timetable page and the
# stations' board link to the task books.
# The page's form holds its file in memory (kiosk.app.KioskRequest never spools a form's file
# to disk), as every staff import does: larger files (data sets) go in with
# `kiosk materials add`, which streams them.
PAGE_BODY_LIMIT = IMPORT_BODY_LIMIT


def _folder():
    return task_books.folder_of(kiosk_instance().path)


@bp.get("/materials")
@requires(permissions.READ_MATERIALS)
def page():
    settings = kiosk_instance().settings
    now = clock.now()
    return render_template("materials/page.html",
                           entries=task_books.listing(db(), settings, now), now=now,
                           size_text=size_text, state_labels=STATE_LABELS,
                           page_limit_mb=min(PAGE_BODY_LIMIT // MiB, settings.upload_limit_mb))


@bp.post("/materials/add")
@requires(permissions.MANAGE_MATERIALS)
@body_limit(PAGE_BODY_LIMIT)
def add():
    upload = request.files.get("file")
    part = request.form.get("part", "")
    try:
        if upload is None or not upload.filename:
            raise KioskError(gettext("Choose a file first."))
        settings = kiosk_instance().settings
        material = task_books.add(db(), _folder(), settings, part, upload.filename,
                                  upload.stream, limit=task_books.size_limit(settings),
                                  actor=current_actor(), now=clock.now())
        flash(gettext("Added %(name)s (SHA-256 %(sha)s).", name=material.filename,
                      sha=material.sha256), "success")
    except KioskError as exc:
        flash(translated(exc), "error")
    return redirect(url_for("materials.page"))


@bp.post("/materials/<int:material_id>/remove")
@requires(permissions.MANAGE_MATERIALS)
def remove(material_id: int):
    material = _material(material_id)
    try:
        task_books.remove(db(), _folder(), kiosk_instance().settings, material.part,
                          material.filename, actor=current_actor(), now=clock.now())
        flash(gettext("Removed %(name)s.", name=material.filename), "success")
    except KioskError as exc:
        flash(translated(exc), "error")
    return redirect(url_for("materials.page"))


@bp.get("/materials/<int:material_id>/file")
@requires(permissions.MANAGE_MATERIALS)
def staff_file(material_id: int):
    """The chief judge checks a file before the day (not a fetch by a station)."""
    material = _material(material_id)
    return _send(material, _folder() / material.stored_name)


@bp.get("/materials/fetches")
@requires(permissions.READ_MATERIALS)
def fetches():
    settings = kiosk_instance().settings
    now = clock.now()
    entries = [e for e in task_books.listing(db(), settings, now) if e.files]
    codes, cells = task_books.fetch_table(db())
    return render_template("materials/fetches.html", entries=entries, codes=codes, cells=cells)


def _material(material_id: int) -> Material:
    return task_books.material_by_id(db(), material_id)


def _send(material: Material, path):
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=material.filename, conditional=False, etag=False,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# ----------------------------------------------------------------------------- the stations

@bp.get("/api/v1/materials")
@station_required
def station_list():
    found = task_books.for_station(db(), kiosk_instance().settings, g.station_id, clock.now())
    return jsonify({"materials": [
        {"part": m.part, "name": m.filename, "size": m.size, "sha256": m.sha256,
         "url": url_for("materials.station_file", material_id=m.id)} for m in found]})


@bp.get("/api/v1/materials/<int:material_id>")
@station_required
def station_file(material_id: int):
    code = db().scalar(select(Station.code).where(Station.id == g.station_id))
    material, path = task_books.fetch(db(), _folder(), kiosk_instance().settings, material_id,
                                      station_id=g.station_id, station_code=code or "?",
                                      now=clock.now())
    return _send(material, path)

