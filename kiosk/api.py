"""The JSON API for workstations and tools, under /api/v1 (described in kiosk/openapi.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

from flask import Blueprint, current_app, g, jsonify, request, send_file, session

from kiosk import audit, clock, scope
from kiosk.collect import hand_ins as collect
from kiosk.collect import parts as collect_parts
from kiosk.collect import resumable
from kiosk.collect.piece_io import (
    query_count,
    read_piece,
    requested_part,
    slip_part_name,
    upload_body,
)
from kiosk.collect.slips import slip_for
from kiosk.crypto import load_signing_key
from kiosk.errors import N_, KioskError
from kiosk.field import announcements, sessions_shown, telemetry
from kiosk.i18n import gettext
from kiosk.materials import task_books
from kiosk.openapi import openapi_document
from kiosk.read_cache import SharedRead
from kiosk.stations import binding, sign_in, timetable
from kiosk.stations.guessing import BADGE_GUARD
from kiosk.theory_exam import exam
from kiosk.web import (
    HAND_IN_BODY_LIMIT,
    PIECE_BODY_LIMIT,
    body_limit,
    db,
    error_response,
    kiosk_instance,
    public,
    station_required,
    translated,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")


# What the clock's answer says alike to every station of a session (场次) beside the day
# (`timetable.day_shared`): the announcements and the session shown. Polled by every kiosk
# every 5 s, both are read once a second per process and session at most (kiosk.read_cache: a
# commit of this process that writes these tables drops them at once; another process's write
# shows within the second). The server's time and all that follows from it (states,
# deadlines) are worked out on every poll.
_clock_shared: SharedRead[_ClockShared] = SharedRead(("announcement", "exam_session"),
                                                     seconds=timetable.SHARED_SECONDS)


@dataclass(frozen=True)
class _ClockShared:
    announcements: tuple[dict, ...]
    session: dict | None


def _read_clock_shared(database) -> _ClockShared:
    return _ClockShared(
        tuple({"id": a.id, "at": clock.iso(a.at), "text": a.text}
              for a in announcements.recent_announcements(database)),
        sessions_shown.clock_session(database, kiosk_instance().settings))


@bp.get("/clock")
@public
def get_clock():
    """The server's time and the deadlines: kiosks count down from these, never from their own
    clock. Open to the hall clock too; a logged-in station also gets its own deadline.

    `phase` is the part whose clock a screen shows (the running part, else the next one
    scheduled, else the last that ran); `part` is the running part, else the next one (the
    interface's); `next_part` is what comes after the one shown; `day` lists every part."""
    settings = kiosk_instance().settings
    about = scope.current(db())
    shared = _clock_shared.get(db(), about.id if about is not None else None,
                               _read_clock_shared)
    now = clock.now()
    the_day = timetable.day_shared(db(), settings, now)
    shown = the_day.current
    row = shown.row if shown is not None and shown.starts_at is not None else None
    station_id = session.get("station_id")
    signed_out = False
    if station_id:
        # The kiosk's poll is its heartbeat; a released station learns it here.
        try:
            held = binding.check_session_confirmed(
                db(), station_id, session.get("station_nonce"), request.remote_addr or "?",
                now=now)
            binding.heartbeat(db(), held, now, kiosk_instance().answer_saves)
        except KioskError:
            signed_out, station_id = True, None
    # The station's window, as every writer reads it: its deadline is the save's and the upload's.
    windows = timetable.windows_of(the_day.rows, row)
    mine = windows.of(station_id) if station_id else None
    running = the_day.running or the_day.upcoming
    following = the_day.after(shown) if shown is not None else None
    return jsonify({
        "server_time": clock.iso(now),
        "server_utc_offset_minutes": clock.utc_offset_minutes(now),
        "phase": row.name if row else None,
        "phase_state": clock.phase_state(windows.phase, now),
        "phase_starts_at": clock.iso(row.starts_at) if row else None,
        "phase_ends_at": clock.iso(clock.phase_end(windows.phase, now)) if row else None,
        "station_deadline": clock.iso(mine.deadline(now)) if mine else None,
        # The station's own state: "ended" once its deadline passed, even while others work on.
        "station_state": mine.state(now) if mine else None,
        "paused_at": clock.iso(row.paused_at) if row is not None else None,
        "warnings_at_minutes": list(shown.part.warnings) if shown is not None
        else settings.warnings_at_minutes,
        "part": _part_json(running),
        "next_part": _part_json(following),
        "day": [{**_part_json(p), "state": p.state, "starts_at": clock.iso(p.starts_at),
                 "ends_at": clock.iso(p.ends_at)} for p in the_day.parts],
        "announcements": list(shared.announcements),
        "signed_out": signed_out,
        "session": dict(shared.session) if shared.session is not None else None,
        # The station's task books in a tag: its page asks for the list when this changes.
        "materials_tag": task_books.list_tag(task_books.station_file_ids(
            db(), settings, station_id, now, the_day)) if station_id else None,
    })


def _part_json(found: timetable.PartNow | None) -> dict | None:
    """A part as a workstation names it (its name in the page's language for the default
    parts), with its start if it is scheduled or under way."""
    if found is None:
        return None
    part = found.part
    return {"key": part.key, "name": gettext(part.label), "kind": part.kind,
            "hand_in": part.hand_in, "minutes": part.minutes,
            "reading_minutes": part.reading_minutes, "starts_at": clock.iso(found.starts_at)}


def _grace() -> timedelta:
    return timedelta(seconds=kiosk_instance().settings.grace_seconds)


@bp.get("/exam/paper")
@station_required
def exam_paper():
    """The paper's questions go out as stored (their JSON text), the rest as JSON beside them."""
    served = exam.paper_served(db(), g.station_id, now=clock.now(), grace=_grace(),
                               saves=kiosk_instance().answer_saves)
    rest = current_app.json.dumps(served.rest)
    body = f'{{"questions": {served.questions}, {rest[1:]}\n'
    return current_app.response_class(body, mimetype="application/json")


@bp.put("/exam/answers/<qid>")
@station_required
def exam_answer(qid: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("seq"), int) or \
            isinstance(body.get("seq"), bool) or body["seq"] < 0 or \
            not (body.get("choice") is None or isinstance(body.get("choice"), str)):
        raise KioskError(N_('Send {"choice": "<option key>" or null, "seq": <number>} as '
                            'JSON.'))
    result = exam.save_answer_together(kiosk_instance().answer_saves, g.station_id, qid,
                                       body.get("choice"), body["seq"], now=clock.now(),
                                       grace=_grace())
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
    station, nonce = sign_in.login_station(
        db(), body["token"], badge_key=kiosk_instance().badge_key(),
        guard=current_app.extensions[BADGE_GUARD], address=request.remote_addr or "?",
        settings=kiosk_instance().settings, now=clock.now(), current_nonce=previous_nonce,
        user_agent=request.headers.get("User-Agent", ""))
    # A new session for the station: nothing of a previous login on this browser survives.
    session.clear()
    session["station_id"] = station.id
    session["station"] = station.code
    session["station_nonce"] = nonce
    # The station's requests see its own session's rows (web.db, kiosk.scope).
    session["station_exam_session"] = [station.exam_session_id, scope.current(db()).code]
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
    kept = telemetry.record_telemetry(db(), g.station_id, events, now=clock.now())
    return jsonify({"recorded": kept})


def receipt_body(hand_in, code: str) -> dict:
    """The answer to a finished hand-in, whichever route brought it: it names its part."""
    payload = collect.receipt_payload(hand_in, code, load_signing_key(kiosk_instance().keys_dir))
    return {"receipt_no": hand_in.receipt_no, "station": code, "filename": hand_in.filename,
            "size": hand_in.size, "sha256": hand_in.sha256,
            "received_at": clock.iso(hand_in.received_at), "receipt_payload": payload,
            "version": hand_in.version, "part": hand_in.part,
            "part_name": gettext(collect_parts.name_of(db(), hand_in.part))}


@bp.post("/collect/upload")
@station_required
@body_limit(HAND_IN_BODY_LIMIT)
def collect_upload():
    """The body is the file, streamed: never request.files (Werkzeug would spool it to disk in
    plaintext) and never request.data (it would sit whole in memory). `?part=KEY` files it
    under that part, else under the practical part under way."""
    instance = kiosk_instance()
    code = session.get("station", "?")
    part = requested_part(db(), instance.settings, clock.now())
    hand_in = collect.ingest_arrived(
        db(), archives=instance.archives_dir, station_id=g.station_id, station_code=code,
        body=request.stream, filename=request.args.get("filename", ""),
        content_length=request.content_length, limit=instance.settings.upload_limit_mb * 2**20,
        grace=_grace(), part=part.key, actor=audit.Actor.station(code))
    response = jsonify(receipt_body(hand_in, code))
    response.status_code = 201
    return response


# ----------------------------------------------------------------------------- in pieces
# The resumable hand-in (kiosk/collect/resumable.py): the kiosk's own route for files of any
# size. The collection desk has the same three calls under /collect/uploads.

@bp.app_errorhandler(resumable.OffsetMismatch)
def on_offset_mismatch(exc: resumable.OffsetMismatch):
    """A gap: the client needs the server's offset to go on, so it is part of the answer."""
    return error_response(exc.code, translated(exc), exc.status, offset=exc.details["offset"])


def _station_owner() -> str:
    return f"station:{g.station_id}"


@bp.post("/collect/uploads")
@station_required
def collect_upload_open():
    """The part (`?part=KEY`, else the one under way) is decided here, for every piece."""
    instance = kiosk_instance()
    now = clock.now()
    part = requested_part(db(), instance.settings, now)
    upload = resumable.open_upload(
        db(), resumable.uploads_for(instance.archives_dir), archives=instance.archives_dir,
        owner=_station_owner(), station_id=g.station_id, station_code=session.get("station", "?"),
        filename=request.args.get("filename", ""), size=query_count("size"),
        limit=instance.settings.upload_limit_mb * 2**20, now=now, grace=_grace(),
        part=part.key)
    return jsonify(upload_body(upload)), 201


@bp.get("/collect/uploads/<upload_id>")
@station_required
def collect_upload_state(upload_id: str):
    upload = resumable.upload_state(resumable.uploads_for(kiosk_instance().archives_dir),
                                    upload_id, owner=_station_owner())
    receipt = receipt_body(upload.hand_in, upload.station_code) if upload.hand_in else None
    return jsonify({**upload_body(upload), "receipt": receipt})


@bp.put("/collect/uploads/<upload_id>")
@station_required
@body_limit(PIECE_BODY_LIMIT)
def collect_upload_piece(upload_id: str):
    arrived = clock.now()  # before any wait for a turn: that is not the contestant's time
    code = session.get("station", "?")
    result = resumable.feed_piece(
        db(), resumable.uploads_for(kiosk_instance().archives_dir), upload_id,
        owner=_station_owner(), offset=query_count("offset"), piece=read_piece(), now=arrived,
        grace=_grace(), actor=audit.Actor.station(code))
    if result.hand_in is not None:
        return jsonify(receipt_body(result.hand_in, code)), 201
    return jsonify({"upload_id": upload_id, "offset": result.offset})


@bp.get("/collect/mine")
@station_required
def collect_mine():
    """This station's hand-ins, per part (each part with its own versions and the one judged
    there), and all of them in one list by part and version (the kiosk lists them after a
    reload)."""
    settings = kiosk_instance().settings
    hand_ins = collect.hand_ins_for(db(), g.station_id)
    judged = collect.judged_by_part(hand_ins)
    names = collect_parts.names(db(), settings)

    def item(h) -> dict:
        return {"receipt_no": h.receipt_no, "filename": h.filename, "size": h.size,
                "sha256": h.sha256, "received_at": clock.iso(h.received_at),
                "version": h.version, "part": h.part, "judged": judged.get(h.part) is h}

    boxes = [p.key for p in collect_parts.hand_in_parts(db(), settings)]
    boxes += sorted({h.part for h in hand_ins} - set(boxes))  # a part since removed
    return jsonify({
        "hand_ins": [item(h) for h in hand_ins],
        "parts": [{"key": key, "name": gettext(names.get(key, key)),
                   "judged": judged[key].receipt_no if key in judged else None,
                   "hand_ins": [item(h) for h in hand_ins if h.part == key]}
                  for key in boxes],
        "limit_bytes": settings.upload_limit_mb * 2**20})


@bp.get("/collect/receipts/<receipt_no>.pdf")
@station_required
def collect_receipt(receipt_no: str):
    hand_in = collect.get_for_station(db(), receipt_no, g.station_id)
    data = slip_for(kiosk_instance(), hand_in, session.get("station", "?"),
                    part_name=slip_part_name(db(), hand_in.part),
                    roll=request.args.get("layout") == "roll")
    return send_file(BytesIO(data), mimetype="application/pdf",
                     download_name=f"receipt-{receipt_no}.pdf", max_age=0)


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document(request.host_url.rstrip("/")))
