"""The collection desk (收件台): field judges hand in on behalf of a station from a USB stick."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from kiosk import clock, permissions, scope
from kiosk.collect import hand_ins as collect
from kiosk.collect import parts as collect_parts
from kiosk.collect import resumable
from kiosk.collect.export import check_bundle, export_bundle, last_check
from kiosk.collect.models import HandIn
from kiosk.collect.piece_io import (
    query_count,
    read_piece,
    requested_part,
    slip_part_name,
    upload_body,
)
from kiosk.collect.slips import poster_pdf, slip_for
from kiosk.crypto import load_signing_key
from kiosk.errors import N_, KioskError, NotFound
from kiosk.i18n import DEFAULT_LOCALE, gettext, lazy_gettext, locale_gettext
from kiosk.stations.models import Station
from kiosk.web import (
    HAND_IN_BODY_LIMIT,
    PIECE_BODY_LIMIT,
    body_limit,
    chosen_session,
    current_actor,
    db,
    kiosk_instance,
    may,
    nav_item,
    requires,
    translated,
)

bp = Blueprint("collect", __name__, template_folder="templates")

nav_item("collect.desk", lambda: str(lazy_gettext("Collection desk")), order=45)
nav_item("collect.export_page", lambda: str(lazy_gettext("Sealed export")), order=46)


@bp.get("/collect/poster.pdf")
@requires(permissions.READ_HAND_INS)
def poster():
    instance = kiosk_instance()
    key = load_signing_key(instance.keys_dir)
    data = poster_pdf(event_name=instance.settings.event_name,
                      fingerprint=collect.key_fingerprint(key.public_key()),
                      font_config=instance.settings.pdf_font)
    return send_file(BytesIO(data), mimetype="application/pdf", download_name="poster.pdf",
                     max_age=0)


@bp.route("/collect/export", methods=["GET", "POST"])
@requires(permissions.READ_EXPORTS)
def export_page():
    """The encryption judges export the sealed bundle into the instance's exports/ folder. The
    export (many GiB) runs as a job beside the requests: the page shows how far it is."""
    instance = kiosk_instance()
    # In an event of several sessions a bundle is the chosen session's, named after it.
    chosen = chosen_session()
    prefix = f"handin-{chosen.code}-" if chosen is not None else "handin-"
    if request.method == "POST" and may(permissions.EXPORT_HAND_INS):
        out = instance.exports_dir / (prefix + clock.now().astimezone().strftime(
            "%Y%m%d-%H%M%S"))
        actor, exam_session = current_actor(), scope.current(db())
        job = instance.jobs.start("export", current_user.id, lambda progress: export_bundle(
            instance, out, actor=actor,
            translate=lambda name: locale_gettext(DEFAULT_LOCALE, name),
            exam_session=exam_session, progress=progress) | {"out": str(out)},
            subject=str(out))
        return redirect(url_for("collect.export_page", job=job.id))
    job = _job_shown()
    if job is not None and job.finished:
        if job.error is not None:
            flash(translated(job.error) if isinstance(job.error, KioskError)
                  else gettext("The work failed; the server's log says why."), "error")
        elif job.kind == "export":
            flash(gettext("Exported %(n)s hand-ins to %(out)s. Manifest SHA-256 %(sha)s",
                          n=job.result["hand_ins"], out=job.result["out"],
                          sha=job.result["manifest_sha256"]), "success")
        else:
            flash(gettext("%(bundle)s: checked.", bundle=job.result), "success")
    bundles = []
    # The bundle an export is writing now is not one yet: listed once it is complete.
    writing = instance.jobs.running("export")
    if instance.exports_dir.is_dir():
        for folder in sorted(instance.exports_dir.glob(prefix + "*"), reverse=True):
            if writing is None or str(folder) != writing.subject:
                bundles.append((folder.name, last_check(folder)))
    return render_template("collect/export.html", bundles=bundles, job=job,
                           count=len(collect.recent_hand_ins(db(), limit=100000)))


def _job_shown():
    """The job the page was sent back to follow (`?job=`): the signed-in user's own only."""
    job_id = request.args.get("job", "")[:32]
    return kiosk_instance().jobs.get(job_id, current_user.id) if job_id else None


@bp.post("/collect/export/<name>/check")
@requires(permissions.READ_EXPORTS)
def export_check(name: str):
    """Check a bundle again, hash by hash (it may be on a stick that was carried away)."""
    folder = kiosk_instance().exports_dir / name
    if "/" in name or ".." in name or not folder.is_dir():
        abort(404)

    def work(progress):
        check_bundle(folder, progress)
        return name

    job = kiosk_instance().jobs.start("check-bundle", current_user.id, work)
    return redirect(url_for("collect.export_page", job=job.id))


@bp.get("/collect/export/<name>/seal-record.pdf")
@requires(permissions.READ_EXPORTS)
def export_record(name: str):
    folder = kiosk_instance().exports_dir / name
    if "/" in name or ".." in name or not (folder / "seal-record.pdf").is_file():
        abort(404)
    return send_file(folder / "seal-record.pdf", mimetype="application/pdf", max_age=0)


@bp.get("/collect")
@requires(permissions.READ_HAND_INS)
def desk():
    """The desk files under one part (`?part=KEY`, default the one under way): its form, its
    "no hand-in yet"; the recent hand-ins of every part, each naming its part."""
    settings = kiosk_instance().settings
    stations = db().execute(select(Station.code, Station.occupied).order_by(Station.code)).all()
    # The desk's script comes back here after a hand-in, with its receipt: said on the page.
    received = request.args.get("received", "").strip()[:64]
    received = collect.hand_in_by_receipt(db(), received) if received else None
    boxes = collect_parts.hand_in_parts(db(), settings)
    part = None
    if boxes:
        # After a hand-in the page stays on that hand-in's part.
        chosen = request.args.get("part") or (received[0].part if received else None)
        part = collect_parts.for_hand_in(db(), settings, chosen, clock.now())
    # One token per form shown, naming the form's part: the same form sent twice is one
    # hand-in (see _desk_form), and the desk's script files it under the part chosen here.
    return render_template("collect/desk.html", stations=stations, received=received,
                           size_text=collect.size_text, parts=boxes, part=part,
                           part_names=collect_parts.names(db(), settings),
                           in_use=collect.stations_in_use(db()),
                           missing=collect.stations_without_hand_in(
                               db(), part.key if part else None),
                           recent=collect.recent_hand_ins(db()),
                           form_token=collect.new_form_token(part.key) if part else "",
                           limit=settings.upload_limit_mb)


def _desk_station() -> Station:
    code = request.args.get("station", "").strip().upper()
    station = db().scalar(select(Station).where(Station.code == code))
    if station is None:
        raise NotFound(N_("No station %(station)s."), station=code)
    return station


def _desk_form(station: Station):
    """The form's token, its part (`?part=KEY`, else the form's, else the one under way) and
    the hand-in it already made (then nothing else is asked), else the warning for a station
    nobody drew, unless the judge confirmed it (`confirm=1`)."""
    token = collect.form_token(request.args.get("form_token"))
    part = requested_part(db(), kiosk_instance().settings, clock.now(), token)
    earlier = collect.hand_in_for_form(db(), token, station.id, part.key)
    if earlier is None:
        collect.require_expected(db(), station, confirmed=request.args.get("confirm") == "1")
    return token, part.key, earlier


def _desk_answer(hand_in, code: str) -> dict:
    return {"receipt_no": hand_in.receipt_no, "station": code, "filename": hand_in.filename,
            "size": hand_in.size, "sha256": hand_in.sha256,
            "received_at": clock.iso(hand_in.received_at), "late": hand_in.late,
            "part": hand_in.part, "version": hand_in.version,
            "part_name": gettext(collect_parts.name_of(db(), hand_in.part))}


@bp.post("/collect/upload")
@requires(permissions.COLLECT_AT_DESK)
@body_limit(HAND_IN_BODY_LIMIT)
def desk_upload():
    """The same pipeline as the kiosk, marked as collected at the desk by this judge."""
    instance = kiosk_instance()
    station = _desk_station()
    token, part, earlier = _desk_form(station)
    if earlier is not None:
        return jsonify(_desk_answer(earlier, station.code)), 200
    actor = current_actor()
    hand_in = collect.ingest_arrived(
        db(), archives=instance.archives_dir, station_id=station.id, station_code=station.code,
        body=request.stream, filename=request.args.get("filename", ""),
        content_length=request.content_length, limit=instance.settings.upload_limit_mb * 2**20,
        grace=timedelta(seconds=instance.settings.grace_seconds), via="desk",
        collected_by=actor.name, form_token=token, part=part, actor=actor)
    return jsonify(_desk_answer(hand_in, station.code)), 201


# The desk's resumable hand-in: the kiosk's protocol (kiosk/collect/resumable.py) on staff
# routes, CSRF token as for the page's other writes. Desk uploads are owned by the desk for
# that station: any desk judge may resume one, and a station never sees them.

def _desk_owner(station_id: int) -> str:
    return f"desk:{station_id}"


@bp.post("/collect/uploads")
@requires(permissions.COLLECT_AT_DESK)
def desk_upload_open():
    """201: an upload opened (or the one this form opened before, with its offset); 200 with
    `receipt`: this form has handed in already; 409 `station_not_drawn`: confirm first."""
    instance = kiosk_instance()
    station = _desk_station()
    token, part, earlier = _desk_form(station)
    if earlier is None:
        upload = resumable.open_upload(
            db(), resumable.uploads_for(instance.archives_dir), archives=instance.archives_dir,
            owner=_desk_owner(station.id), station_id=station.id, station_code=station.code,
            filename=request.args.get("filename", ""), size=query_count("size"),
            limit=instance.settings.upload_limit_mb * 2**20, now=clock.now(),
            grace=timedelta(seconds=instance.settings.grace_seconds), via="desk",
            form_token=token, part=part)
        if upload.hand_in is None:
            return jsonify(upload_body(upload)), 201
        earlier = upload.hand_in
    return jsonify({"receipt": _desk_answer(earlier, station.code)}), 200


@bp.get("/collect/uploads/<upload_id>")
@requires(permissions.COLLECT_AT_DESK)
def desk_upload_state(upload_id: str):
    station = _desk_station()
    upload = resumable.upload_state(resumable.uploads_for(kiosk_instance().archives_dir),
                                    upload_id, owner=_desk_owner(station.id))
    receipt = _desk_answer(upload.hand_in, station.code) if upload.hand_in else None
    return jsonify({**upload_body(upload), "receipt": receipt})


@bp.put("/collect/uploads/<upload_id>")
@requires(permissions.COLLECT_AT_DESK)
@body_limit(PIECE_BODY_LIMIT)
def desk_upload_piece(upload_id: str):
    arrived = clock.now()
    instance = kiosk_instance()
    station = _desk_station()
    actor = current_actor()
    result = resumable.feed_piece(
        db(), resumable.uploads_for(instance.archives_dir), upload_id,
        owner=_desk_owner(station.id), offset=query_count("offset"), piece=read_piece(),
        now=arrived, grace=timedelta(seconds=instance.settings.grace_seconds),
        collected_by=actor.name, actor=actor)
    if result.hand_in is not None:
        return jsonify(_desk_answer(result.hand_in, station.code)), 201
    return jsonify({"upload_id": upload_id, "offset": result.offset})


@bp.get("/collect/receipts/<receipt_no>.pdf")
@requires(permissions.READ_HAND_INS)
def desk_receipt(receipt_no: str):
    row = db().execute(select(HandIn, Station.code).join(Station, Station.id == HandIn.station_id)
                       .where(HandIn.receipt_no == receipt_no)).first()
    if row is None:
        raise NotFound(N_("No such receipt."))
    hand_in, code = row
    data = slip_for(kiosk_instance(), hand_in, code, part_name=slip_part_name(db(), hand_in.part),
                    roll=request.args.get("layout") == "roll")
    return send_file(BytesIO(data), mimetype="application/pdf",
                     download_name=f"receipt-{receipt_no}.pdf", max_age=0)
