"""OpenAPI 3.1 description of the JSON API (served at /api/v1/openapi.json).

It describes the whole interface of ../shared/brief/interface.md, including calls whose pages are
still being built; `tests/test_api.py` checks that every /api/v1 route is described here and that
every described call exists, so the document cannot drift from the code.
"""

from __future__ import annotations

from kiosk import __version__
from kiosk.materials.api_doc import materials_paths, materials_schemas
from kiosk.theory_exam.exam import MAX_SEQ


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _json(_ref("Error"), "Error")
TIME = {"type": "string", "format": "date-time",
        "description": "ISO 8601 with milliseconds and offset"}
# Calls of the interface whose implementation lands with a later issue: described already so tools
# can be written against them; the test suite proves every call not marked so is really served.
PLANNED = {"x-kiosk-status": "planned"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
# Text sent to the server: anything but NUL, which no badge, answer or name holds and PostgreSQL
# cannot store; a request carrying one is refused with 400 (kiosk/web.py).
TEXT_IN = {"type": "string", "pattern": "^[^\\x00]*$"}
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": TEXT_IN}


def openapi_document(server_url: str = "") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kiosk exam-day API",
            "version": __version__,
            "description": (
                "JSON API for contestants' workstations and organisers' tools. Times are ISO "
                "8601 with milliseconds and offset. Errors are {\"error\", \"message\"}. Writes "
                "from a browser must come from this origin (CSRF); the station's session is a "
                "cookie set by /station/login."),
        },
        "servers": [{"url": server_url or "/"}],
        "components": {
            "securitySchemes": {
                "stationSession": {"type": "apiKey", "in": "cookie", "name": "kiosk_session"},
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                   "problems": {"type": "array", "items": {"type": "string"}}},
                },
                **_clock_schemas(), **_exam_schemas(), **_hand_in_schemas(),
                **materials_schemas(),
            },
        },
        "paths": {
            **_clock_paths(), **_station_paths(), **_exam_paths(), **_upload_paths(),
            **_resumable_upload_paths(), **_hand_in_paths(), **materials_paths(),
            "/api/v1/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1",
                                      "content": {"application/json": {}}}},
            }},
        },
    }


PART_KEY = "^[A-Za-z0-9_-]{1,16}$"
_PART = {
    "key": {"type": "string", "pattern": PART_KEY},
    "name": {"type": "string"},
    "kind": {"type": "string", "enum": ["theory", "practical"]},
    "hand_in": {"type": "boolean"},
    "minutes": {"type": "number"},
    "reading_minutes": {"type": "number",
                        "description": "its task books are out this long before its start"},
    "starts_at": NULLABLE_TIME,
}


def _clock_schemas() -> dict:
    """The clock's answer, the parts of the day it names and the announcements it carries."""
    return {
        "Part": {"type": ["object", "null"], "required": list(_PART),
                 "properties": dict(_PART)},
        "PartOfDay": {
            "type": "object", "required": [*_PART, "state", "ends_at"],
            "properties": {**_PART, "state": {"type": "string", "enum": [
                "not_started", "scheduled", "running", "paused", "ended"]},
                "ends_at": NULLABLE_TIME}},
        "Announcement": {
            "type": "object", "required": ["id", "at", "text"],
            "properties": {"id": {"type": "integer"}, "at": TIME,
                           "text": {"type": "string"}},
        },
        "Clock": {
            "type": "object",
            "required": ["server_time", "phase", "phase_ends_at", "station_deadline",
                         "warnings_at_minutes", "announcements"],
            "properties": {
                "server_time": TIME,
                "server_utc_offset_minutes": {
                    "type": "integer",
                    "description": "the hall's UTC offset, to show wall-clock time"},
                "phase": {"type": ["string", "null"], "pattern": PART_KEY,
                          "description": "the key of the part whose clock is shown: the "
                                         "running part, else the next one scheduled, else the "
                                         "last that ran (theory and practical on the default "
                                         "timetable)"},
                "phase_state": {"type": "string",
                                "enum": ["not_started", "scheduled", "running", "paused",
                                         "ended"]},
                "phase_starts_at": NULLABLE_TIME,
                "phase_ends_at": NULLABLE_TIME,
                "station_deadline": NULLABLE_TIME,
                "station_state": {
                    "type": ["string", "null"],
                    "enum": ["not_started", "scheduled", "running", "paused", "ended",
                             None],
                    "description": "this station's own state: ended once its deadline "
                                   "(extensions included) passed"},
                "paused_at": {**NULLABLE_TIME,
                              "description": "when the running pause began"},
                "warnings_at_minutes": {"type": "array", "items": {"type": "number"},
                                        "description": "that part's warnings, in minutes "
                                                       "before its end"},
                "part": {**_ref("Part"),
                         "description": "the running part, else the next one, else null"},
                "next_part": {**_ref("Part"),
                              "description": "what comes after the part shown"},
                "day": {"type": "array", "items": _ref("PartOfDay"),
                        "description": "every part of the day's timetable, in order"},
                "announcements": {"type": "array", "items": _ref("Announcement")},
                "signed_out": {"type": "boolean",
                               "description": "this browser's station was released"},
                "session": {
                    "type": ["object", "null"], "required": ["code", "name"],
                    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
                    "description": "the session (场次) this clock is about: the station's "
                                   "own, else the one the hall serves; null in an event "
                                   "without sessions"},
                "materials_tag": {
                    "type": ["string", "null"],
                    "description": "a signed-in station's list of task books "
                                   "(/api/v1/materials) in a short tag: the same while the "
                                   "list is the same; null for a clock without a station"},
            },
        },
    }


def _exam_schemas() -> dict:
    """A question of the theory paper, as the station sees it (never the key)."""
    return {
        "Question": {
            "type": "object", "required": ["id", "type", "stem", "options"],
            "properties": {
                "id": {"type": "string"},
                "type": {"type": "string", "enum": ["single", "tf"]},
                "stem": {"type": "string"},
                "options": {"type": "array", "items": {
                    "type": "object", "required": ["key", "text"],
                    "properties": {"key": {"type": "string"},
                                   "text": {"type": "string"}}}},
            },
        },
    }


def _hand_in_schemas() -> dict:
    """A hand-in's receipt, and a resumable upload's state."""
    return {
        "Receipt": {
            "type": "object",
            "required": ["receipt_no", "station", "filename", "size", "sha256",
                         "received_at", "receipt_payload"],
            "properties": {
                "receipt_no": {"type": "string"}, "station": {"type": "string"},
                "filename": {"type": "string"}, "size": {"type": "integer"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "received_at": TIME, "receipt_payload": {"type": "string"},
                "version": {"type": "integer",
                            "description": "numbered per station and part"},
                "part": {"type": "string", "description": "the part's key (模块A …)"},
                "part_name": {"type": "string", "description": "the part's name as shown"},
            },
        },
        "Upload": {
            "type": "object", "required": ["upload_id", "offset", "size", "piece_bytes"],
            "properties": {
                "upload_id": {"type": "string"},
                "offset": {"type": "integer", "minimum": 0,
                           "description": "bytes the server has; send from here"},
                "size": {"type": "integer", "minimum": 1},
                "piece_bytes": {"type": "integer",
                                "description": "the largest piece (1 MiB)"},
                "part": {"type": "string",
                         "description": "the part it is for, decided when it opened"},
                "receipt": {"type": ["object", "null"],
                            "description": "once the last piece is in: the receipt, "
                                           "as the final PUT answered it"},
            },
        },
        "UploadError": {
            "type": "object", "required": ["error", "message"],
            "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                           "offset": {"type": "integer", "minimum": 0,
                                      "description": "409: the server's offset"}},
        },
    }


def _clock_paths() -> dict:
    """The clock every screen polls."""
    return {
        "/api/v1/clock": {"get": {
            "summary": "Server time, phase, deadlines, warnings and announcements",
            "responses": {"200": _json(_ref("Clock"), "The clock")},
        }},
    }


def _station_paths() -> dict:
    """The workstation's sign-in with its badge, and what its page reports."""
    return {
        "/api/v1/station/login": {"post": {
            "summary": "Log a workstation in to a station with its badge",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["token"],
                "properties": {"token": {**TEXT_IN,
                                         "description": "badge QR text or typed code"}}}}}},
            "responses": {
                "200": _json({"type": "object", "required": ["station"],
                              "properties": {"station": {"type": "string"}}},
                             "Logged in; the session cookie is set"),
                "400": ERROR, "401": ERROR, "403": ERROR, "409": ERROR, "429": ERROR,
            },
        }},
        "/api/v1/station/telemetry": {"post": {
            "summary": "Report what the kiosk page noticed (never punished automatically)",
            "security": [{"stationSession": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["events"],
                "properties": {"events": {"type": "array", "maxItems": 20, "items": {
                    "type": "object", "required": ["kind"],
                    "properties": {"kind": TEXT_IN, "detail": TEXT_IN}}}}}}}},
            "responses": {"200": _json({"type": "object", "properties": {
                "recorded": {"type": "integer"}}}, "Recorded"), "400": ERROR, "401": ERROR},
        }},
    }


def _exam_paths() -> dict:
    """The theory exam: the paper, one answer at a time, the hand-in."""
    return {
        "/api/v1/exam/paper": {"get": {
            "summary": "This station's theory paper and saved answers (never the key)",
            "security": [{"stationSession": []}],
            "responses": {
                "200": _json({"type": "object", "required": ["questions", "answers",
                                                             "deadline"],
                              "properties": {
                                  "questions": {"type": "array", "items": _ref("Question")},
                                  "answers": {"type": "object",
                                              "additionalProperties": {"type": "string"}},
                                  "deadline": NULLABLE_TIME,
                                  "state": {"type": "string"},
                                  "submitted_at": NULLABLE_TIME,
                                  "last_seq": {"type": "integer"},
                                  "full_marks": {"type": "string"},
                                  "score": {"type": "string"}}}, "The paper"),
                "401": ERROR, "423": ERROR},
        }},
        "/api/v1/exam/answers/{qid}": {"put": {
            "summary": "Save one answer; an older seq changes nothing",
            "security": [{"stationSession": []}],
            "parameters": [{"name": "qid", "in": "path", "required": True,
                            "schema": TEXT_IN}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["choice", "seq"],
                "properties": {"choice": {**TEXT_IN, "type": ["string", "null"]},
                               "seq": {"type": "integer", "minimum": 0,
                                       "maximum": MAX_SEQ,
                                       "description": "the kiosk's count of choices; at "
                                       "most 100 000 ahead of the station's last seq, "
                                       "else 400"}}}}}},
            "responses": {
                "200": _json({"type": "object", "required": ["saved", "seq"],
                              "properties": {"saved": {"type": "boolean"},
                                             "seq": {"type": "integer"},
                                             "current_seq": {"type": "integer"}}},
                             "saved: this choice (or a newer one) is what the server "
                             "holds; an older seq changes nothing"),
                "400": ERROR, "401": ERROR, "404": ERROR, "423": ERROR},
        }},
        "/api/v1/exam/submit": {"post": {
            "summary": "Hand in the theory paper",
            "security": [{"stationSession": []}],
            "responses": {
                "200": _json({"type": "object", "required": ["submitted_at", "answered"],
                              "properties": {"submitted_at": TIME,
                                             "answered": {"type": "integer"}}}, "Submitted"),
                "401": ERROR, "423": ERROR},
        }},
    }


# Which part a hand-in is for: each practical part with a hand-in has its own window and
# versions.
HAND_IN_PART = {"name": "part", "in": "query", "required": False,
                "description": "the part's key (absent or empty: the practical part under "
                               "way; none running: 423 with the station's state). Unknown: "
                               "404; a part "
                               "without a hand-in (theory, hand_in = false): 409 no_hand_in; "
                               "that part's window closed for the station: 423",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,16}$"}}


def _upload_paths() -> dict:
    """A hand-in in one request, for tools."""
    return {
        "/api/v1/collect/upload": {"post": {
            "summary": "Hand in a file (raw body); hashed and encrypted on arrival",
            "description": (
                "One request for the whole file, for tools. The server has the whole body "
                "before it runs, so it cannot resume; the kiosk uses /collect/uploads."),
            "security": [{"stationSession": []}],
            "parameters": [{"name": "filename", "in": "query", "required": False,
                            "description": "the file's name as the contestant sees it "
                                           "(path parts removed; default upload.bin)",
                            "schema": TEXT_IN}, HAND_IN_PART],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "minLength": 1}}}},
            "responses": {"201": _json(_ref("Receipt"), "Received"),
                          "400": ERROR, "401": ERROR, "404": ERROR, "409": ERROR,
                          "413": ERROR, "423": ERROR, "507": ERROR},
        }},
    }


def _resumable_upload_paths() -> dict:
    """A hand-in in pieces: what the kiosk's page uses."""
    return {
        "/api/v1/collect/uploads": {"post": {
            "summary": "Open a resumable hand-in of `size` bytes, sent in pieces",
            "description": (
                "The kiosk's way for files of any size: no request is larger than a piece "
                "(1 MiB), so nothing is buffered whole and an interrupted hand-in resumes "
                "at the server's offset. Refused now as the whole file would be (413, 423, "
                "409 without an archive key). One open upload per station: opening another "
                "abandons the previous one. An upload without a piece for 10 minutes, or "
                "held by a server that restarted, is gone (404): start again from zero."),
            "security": [{"stationSession": []}],
            "parameters": [
                {"name": "filename", "in": "query", "required": False,
                 "description": "the file's name as the contestant sees it",
                 "schema": TEXT_IN},
                {"name": "size", "in": "query", "required": True,
                 "description": "the file's size in bytes",
                 "schema": {"type": "integer", "minimum": 1}},
                HAND_IN_PART],
            "responses": {"201": _json(_ref("Upload"), "Opened at offset 0"),
                          "400": ERROR, "401": ERROR, "404": ERROR, "409": ERROR, "413": ERROR,
                          "423": ERROR, "507": ERROR},
        }},
        "/api/v1/collect/uploads/{upload_id}": {
            "get": {
                "summary": "Where an upload stands: the offset to resume from",
                "security": [{"stationSession": []}],
                "parameters": [UPLOAD_ID],
                "responses": {"200": _json(_ref("Upload"), "The upload"),
                              "400": ERROR, "401": ERROR, "404": ERROR},
            },
            "put": {
                "summary": "Feed one piece (raw body, at most 1 MiB) at `offset`",
                "description": (
                    "Pieces go in order into one age stream through SHA-256. A piece at or "
                    "before the server's offset is acknowledged and only its new bytes are "
                    "applied; one beyond it is 409 with the server's `offset`. The piece "
                    "that reaches `size` finishes the stream, fsyncs it and commits the "
                    "hand-in: 201 with the receipt, the same body as POST "
                    "/api/v1/collect/upload (sent again for a repeated last piece). The "
                    "window is asked again when the last piece arrives (423), and that is "
                    "the receipt's time. A full disk is 507 and the upload is gone."),
                "security": [{"stationSession": []}],
                "parameters": [
                    UPLOAD_ID,
                    {"name": "offset", "in": "query", "required": True,
                     "description": "where this piece starts in the file",
                     "schema": {"type": "integer", "minimum": 0}}],
                "requestBody": {"required": True, "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary", "minLength": 1}}}},
                "responses": {
                    "200": _json({"type": "object", "required": ["upload_id", "offset"],
                                  "properties": {"upload_id": {"type": "string"},
                                                 "offset": {"type": "integer",
                                                            "minimum": 0}}},
                                 "Taken; send from `offset`"),
                    "201": _json(_ref("Receipt"), "The last piece: received"),
                    "400": ERROR, "401": ERROR, "404": ERROR,
                    "409": _json(_ref("UploadError"), "A gap: send from `offset`"),
                    "413": ERROR, "423": ERROR, "507": ERROR},
            },
        },
    }


def _hand_in_paths() -> dict:
    """The station's hand-ins and their receipt slips."""
    return {
        "/api/v1/collect/mine": {"get": {
            "summary": "This station's hand-ins and the upload limit",
            "description": (
                "`hand_ins`: all of them by part and version, each with `part` and `judged` "
                "(the last before that part's deadline for this station); `parts`: the day's "
                "parts with a hand-in, each `{key, name, judged, hand_ins}`."),
            "security": [{"stationSession": []}],
            "responses": {"200": {"description": "hand-ins", "content": {
                "application/json": {}}}, "401": ERROR},
        }},
        "/api/v1/collect/receipts/{receipt_no}.pdf": {"get": {
            "summary": "The receipt slip as a PDF",
            "security": [{"stationSession": []}],
            "parameters": [{"name": "receipt_no", "in": "path", "required": True,
                            "schema": TEXT_IN}],
            "responses": {"200": {"description": "PDF", "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                "400": ERROR, "401": ERROR, "404": ERROR},
        }},
    }
