"""The JSON API for workstations and tools, under /api/v1 (described in kiosk/openapi.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, jsonify, request, session

from kiosk import audit, clock
from kiosk.errors import N_, KioskError
from kiosk.lockdown import field, phases
from kiosk.lockdown import service as lockdown
from kiosk.openapi import openapi_document
from kiosk.theory_exam import exam
from kiosk.web import (
    HAND_IN_BODY_LIMIT,
    body_limit,
    db,
    kiosk_instance,
    public,
    station_required,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/clock")
@public
def get_clock():
    """The server's time and the deadlines: kiosks count down from these, never from their own
    clock. Open to the hall clock too; a logged-in station also gets its own deadline."""
    settings = kiosk_instance().settings
    now = clock.now()
    row = phases.current(db(), now)
    rule = phases.as_rule(row)
    deadline = None
    station_id = session.get("station_id")
    signed_out = False
    if station_id:
        # The kiosk's poll is its heartbeat; a released station learns it here.
        try:
            held = field.check_session(db(), station_id, session.get("station_nonce"))
            field.heartbeat(db(), held, now)
        except KioskError:
            signed_out, station_id = True, None
    if row is not None:
        extensions = phases.station_extensions(db(), row.id, station_id) if station_id else []
        deadline = clock.station_deadline(rule, extensions, now)
    return jsonify({
        "server_time": clock.iso(now),
        "server_utc_offset_minutes": clock.utc_offset_minutes(now),
        "phase": row.name if row else None,
        "phase_state": clock.phase_state(rule, now),
        "phase_starts_at": clock.iso(row.starts_at) if row else None,
        "phase_ends_at": clock.iso(clock.phase_end(rule, now)) if rule else None,
        "station_deadline": clock.iso(deadline) if station_id else None,
        "warnings_at_minutes": settings.warnings_at_minutes,
        "announcements": [{"id": a.id, "at": clock.iso(a.at), "text": a.text}
                          for a in field.recent_announcements(db())],
        "signed_out": signed_out,
    })


def _grace() -> timedelta:
    return timedelta(seconds=kiosk_instance().settings.grace_seconds)


@bp.get("/exam/paper")
@station_required
def exam_paper():
    return jsonify(exam.paper_for(db(), g.station_id, now=clock.now(), grace=_grace()))


@bp.put("/exam/answers/<qid>")
@station_required
def exam_answer(qid: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("seq"), int) or \
            isinstance(body.get("seq"), bool) or body["seq"] < 0 or \
            not (body.get("choice") is None or isinstance(body.get("choice"), str)):
        raise KioskError(N_('Send {"choice": "<option key>" or null, "seq": <number>} as '
                            'JSON.'))
    result = exam.save_answer(db(), g.station_id, qid, body.get("choice"), body["seq"],
                              now=clock.now(), grace=_grace())
    return jsonify({"saved": result.saved, "seq": result.seq,
                    "current_seq": result.current_seq})


@bp.post("/exam/submit")
@station_required
def exam_submit():
    sitting = exam.submit(db(), g.station_id, session.get("station", "?"), now=clock.now(),
                          grace=_grace())
    return jsonify({"submitted_at": clock.iso(sitting.submitted_at),
                    "answered": sitting.answered or 0})


@bp.post("/station/login")
@public
def station_login():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str):
        raise KioskError(N_('Send {"token": "<badge code>"} as JSON.'))
    previous_nonce = session.get("station_nonce")
    station, nonce = lockdown.login_station(
        db(), body["token"], badge_key=kiosk_instance().badge_key(),
        address=request.remote_addr or "?", now=clock.now(), current_nonce=previous_nonce,
        user_agent=request.headers.get("User-Agent", ""))
    # A new session for the station: nothing of a previous login on this browser survives.
    session.clear()
    session["station_id"] = station.id
    session["station"] = station.code
    session["station_nonce"] = nonce
    session.permanent = True
    return jsonify({"station": station.code})


@bp.post("/station/telemetry")
@station_required
def station_telemetry():
    """What the kiosk page noticed (focus lost, full screen left, copy attempts …)."""
    body = request.get_json(silent=True)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise KioskError(N_('Send {"events": [{"kind": …, "detail": …}]} as JSON.'))
    kept = field.record_telemetry(db(), g.station_id, events, now=clock.now())
    return jsonify({"recorded": kept})


@bp.post("/collect/upload")
@station_required
@body_limit(HAND_IN_BODY_LIMIT)
def collect_upload():
    """The body is the file, streamed: never request.files (Werkzeug would spool it to disk in
    plaintext) and never request.data (it would sit whole in memory)."""
    from kiosk.collect import service as collect
    from kiosk.crypto import load_signing_key

    instance = kiosk_instance()
    code = session.get("station", "?")
    hand_in = collect.ingest_arrived(
        db(), archives=instance.archives_dir, station_id=g.station_id, station_code=code,
        body=request.stream, filename=request.args.get("filename", ""),
        content_length=request.content_length, limit=instance.settings.upload_limit_mb * 2**20,
        grace=_grace(), actor=audit.Actor(f"station:{code}", "station"))
    payload = collect.receipt_payload(hand_in, code, load_signing_key(instance.keys_dir))
    response = jsonify({"receipt_no": hand_in.receipt_no, "station": code,
                        "filename": hand_in.filename, "size": hand_in.size,
                        "sha256": hand_in.sha256, "received_at": clock.iso(hand_in.received_at),
                        "receipt_payload": payload, "version": hand_in.version})
    response.status_code = 201
    return response


@bp.get("/collect/mine")
@station_required
def collect_mine():
    """This station's hand-ins, newest last (the kiosk lists them after a reload)."""
    from kiosk.collect import service as collect

    return jsonify({"hand_ins": [
        {"receipt_no": h.receipt_no, "filename": h.filename, "size": h.size,
         "sha256": h.sha256, "received_at": clock.iso(h.received_at), "version": h.version}
        for h in collect.hand_ins_for(db(), g.station_id)],
        "limit_bytes": kiosk_instance().settings.upload_limit_mb * 2**20})


@bp.get("/collect/receipts/<receipt_no>.pdf")
@station_required
def collect_receipt(receipt_no: str):
    from io import BytesIO

    from flask import send_file

    from kiosk.collect import service as collect
    from kiosk.collect.slips import slip_for

    hand_in = collect.get_for_station(db(), receipt_no, g.station_id)
    data = slip_for(kiosk_instance(), hand_in, session.get("station", "?"),
                    roll=request.args.get("layout") == "roll")
    return send_file(BytesIO(data), mimetype="application/pdf",
                     download_name=f"receipt-{receipt_no}.pdf", max_age=0)


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document(request.host_url.rstrip("/")))
