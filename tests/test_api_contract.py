"""The JSON API held to its own OpenAPI document, the way schemathesis holds it.

Requests are generated from `/api/v1/openapi.json` itself (and garbage beside them), sent by a
signed-in station while both phases run, and every answer must:
- never be a 5xx;
- have a status the document lists for that call;
- have the documented media type and, where a schema is given, match it;
- when the request broke the document's own schema, be refused (4xx), never accepted.
A call that needs the station's session is 401 without it.

Schemathesis itself was run by hand (docs/quality.md); this test keeps the same checks in CI with
the dependencies the project already has. If the document grows a JSON Schema keyword that this
file does not understand, the test says so rather than ignoring it.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

import pyrage
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import clock
from kiosk.judge_keys import add_judge_key
from kiosk.materials import task_books
from kiosk.openapi import openapi_document
from kiosk.stations import phases
from kiosk.theory_exam.papers import SpecInput, key_maps, set_spec
from kiosk.theory_exam.question_bank import import_bank
from tests.actors import CHIEF
from tests.factories import issue_badge, make_stations
from tests.plugins.theory_exam import bank_csv

DOCUMENT = openapi_document()
SCHEMAS = DOCUMENT["components"]["schemas"]
OPERATIONS = [(path, method) for path, operations in DOCUMENT["paths"].items()
              for method in operations]
# Keywords this file checks and generates; "description", "format" of binary and x- extensions
# carry no constraint on JSON values.
KEYWORDS = {"$ref", "type", "enum", "required", "properties", "additionalProperties", "items",
            "maxItems", "minItems", "pattern", "minimum", "maximum", "minLength", "format",
            "description"}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
TYPES = {"string": lambda v: isinstance(v, str), "null": lambda v: v is None,
         "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
         "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
         "boolean": lambda v: isinstance(v, bool), "object": lambda v: isinstance(v, dict),
         "array": lambda v: isinstance(v, list)}


def _resolved(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    unknown = {key for key in schema if not key.startswith("x-")} - KEYWORDS
    assert not unknown, f"this test does not check {unknown}: teach it before using them"
    return schema


def mismatches(value, schema: dict, where: str = "$") -> list[str]:
    """Where `value` breaks `schema` (the subset of JSON Schema that kiosk/openapi.py uses)."""
    schema = _resolved(schema)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(TYPES[kind](value) for kind in kinds):
            return [f"{where}: {value!r:.60} is not {'/'.join(kinds)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r:.60} is not one of {schema['enum']}"]
    found = []
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r:.60} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where}: shorter than {schema['minLength']}")
        if schema.get("format") == "date-time":
            try:
                if datetime.fromisoformat(value).tzinfo is None:
                    found.append(f"{where}: {value} has no offset")
            except ValueError:
                found.append(f"{where}: {value!r:.60} is not a date-time")
    if TYPES["number"](value) and value < schema.get("minimum", value):
        found.append(f"{where}: {value} is below {schema['minimum']}")
    if TYPES["number"](value) and value > schema.get("maximum", value):
        found.append(f"{where}: {value} is above {schema['maximum']}")
    if isinstance(value, dict):
        found += [f"{where}: {name} is missing" for name in schema.get("required", [])
                  if name not in value]
        properties = schema.get("properties", {})
        for name, item in value.items():
            item_schema = properties.get(name, schema.get("additionalProperties"))
            if isinstance(item_schema, dict):
                found += mismatches(item, item_schema, f"{where}.{name}")
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            found.append(f"{where}: {len(value)} items")
        if "items" in schema:
            for index, item in enumerate(value):
                found += mismatches(item, schema["items"], f"{where}[{index}]")
    return found


def simplest(schema: dict):
    """The plainest value that satisfies `schema` (the boundary example a fuzzer sends too)."""
    schema = _resolved(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return None if "null" in kinds else simplest({**schema, "type": kinds[0]})
    if kinds == "object":
        return {name: simplest(item) for name, item in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    return {"integer": schema.get("minimum", 0), "number": schema.get("minimum", 0),
            "boolean": False, "null": None, "array": [],
            "string": "x" * schema.get("minLength", 0)}.get(kinds)


def values(schema: dict) -> st.SearchStrategy:
    """Values that satisfy `schema`."""
    schema = _resolved(schema)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type")
    if isinstance(kinds, list):
        return st.one_of([values({**schema, "type": kind}) for kind in kinds])
    if kinds == "string" and schema.get("format") == "binary":
        return st.binary(min_size=schema.get("minLength", 0), max_size=2048)
    if kinds == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=60)
    if kinds == "integer":
        low, high = schema.get("minimum"), schema.get("maximum", 2**62)
        # Mostly the numbers a client really sends (a seq runs at most 100 000 ahead of the
        # last one), sometimes anything the document allows.
        everyday = st.integers(min_value=low if low is not None else -1000,
                               max_value=min(high, (low or 0) + 1000))
        return st.one_of(everyday, everyday, everyday, st.integers(min_value=low, max_value=high))
    if kinds == "boolean":
        return st.booleans()
    if kinds == "null":
        return st.none()
    if kinds == "array":
        return st.lists(values(schema.get("items", {})), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 5), 5))
    if kinds == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {name: values(properties[name]) for name in required},
            optional={name: values(item) for name, item in properties.items()
                      if name not in required})
    return JSON_VALUES


@pytest.fixture
def hall(app, request):
    """The part the call belongs to running (the theory for the exam's calls, the practical
    for the hand-in's: one part runs at a time), a paper and a signed-in station, an archive
    key, a hand-in: every call can really succeed, so the checks see successes as well as
    refusals."""
    instance = app.extensions["kiosk"]
    with instance.session() as session:
        import_bank(session, bank_csv(), "bank.csv", actor=CHIEF, now=clock.now())
        station = make_stations(session, 1)[0]
        badge = issue_badge(session, station, instance.badge_key())
        set_spec(session, SpecInput(single=10, tf=5, single_points=Decimal("2"),
                                    tf_points=Decimal("1")), actor=CHIEF, now=clock.now())
        add_judge_key(session, "archive judge", str(pyrage.x25519.Identity.generate().to_public()),
                      "archive", actor=CHIEF, now=clock.now())
        phases.start(session, "theory", 600, actor=CHIEF, now=clock.now())
    key_maps.clear()
    station_client = app.test_client()
    assert station_client.post("/api/v1/station/login",
                               json={"token": badge.qr_token}).status_code == 200
    question_ids = [q["id"] for q in station_client.get("/api/v1/exam/paper").get_json()
                    ["questions"]]
    called = request.node.callspec.params.get("path", "/collect/")
    if "/collect/" not in called and "/materials" not in called:
        return app, station_client, {"qid": question_ids, "receipt_no": ["R0"],
                                     "upload_id": ["none"], "offset": [0], "size": [4096]}
    with instance.session() as session:
        phases.end(session, "theory", actor=CHIEF, now=clock.now())
        phases.start(session, "practical", 600, actor=CHIEF, now=clock.now())
        material = task_books.add(session, task_books.folder_of(instance.path),
                                  instance.settings, "practical", "任务书.pdf",
                                  io.BytesIO(b"%PDF-1.4 task book"), limit=2**20, actor=CHIEF,
                                  now=clock.now())
    receipt = station_client.post("/api/v1/collect/upload?filename=work.zip", data=b"work",
                                  headers={"Content-Type": "application/octet-stream"})
    # A resumable upload larger than the pieces drawn below, so they feed it without ending it.
    upload = station_client.post("/api/v1/collect/uploads?filename=big.zip&size=10000000")
    return app, station_client, {"qid": question_ids, "receipt_no": [receipt.json["receipt_no"]],
                                 "upload_id": [upload.json["upload_id"]], "offset": [0],
                                 "size": [4096], "material_id": [str(material.id)]}


def _as_sent(value, parameter: dict):
    """A query string carries text: an integer parameter written as digits is that integer
    (the server cannot tell "5" from 5), anything else stays text and breaks the schema."""
    if parameter["in"] == "query" and parameter["schema"].get("type") == "integer" and \
            isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    return value


def _request(draw, path: str, method: str, operation: dict, known: dict[str, list]) -> dict:
    """One request for `operation`: its parameters and body drawn from the document, or (for
    half of the JSON bodies) any JSON at all or bytes that are not JSON. Path parameters are often
    ones that exist (`known`), so the calls succeed as well as fail."""
    url, query, conforms = path, {}, True
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path" and not parameter["required"] and draw(st.booleans()):
            continue
        existing = st.sampled_from(known.get(parameter["name"], [""]))
        value = draw(st.one_of(existing, existing, values(parameter["schema"]),
                               st.text(max_size=20)))
        conforms = conforms and not mismatches(_as_sent(value, parameter), parameter["schema"])
        if parameter["in"] == "path":
            placeholder = "{" + parameter["name"] + "}"
            url = url.replace(placeholder, quote(value, safe="") or "%20")
        else:
            query[parameter["name"]] = value
    request = {"method": method.upper(), "path": url, "query_string": query,
               "conforms": conforms}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        schema = content["application/json"]["schema"]
        kind = draw(st.sampled_from(["valid", "valid", "simplest", "any json", "not json"]))
        if kind == "simplest":  # what a client most often sends: nulls, zeros, empty lists
            body = simplest(schema)
            request["data"] = json.dumps(body)
            request["conforms"] = conforms and not mismatches(body, schema)
        elif kind == "not json":
            request["data"] = draw(st.binary(max_size=200))
            request["conforms"] = False
        else:
            body = draw(values(schema) if kind == "valid" else JSON_VALUES)
            request["data"] = json.dumps(body)
            request["conforms"] = conforms and not mismatches(body, schema)
        request["headers"] = {"Content-Type": "application/json"}
    elif "application/octet-stream" in content:
        schema = content["application/octet-stream"]["schema"]
        request["data"] = draw(values(schema) | st.just(b""))
        request["conforms"] = conforms and len(request["data"]) >= schema.get("minLength", 0)
        request["headers"] = {"Content-Type": "application/octet-stream"}
    return request


def _check_answer(operation: dict, request: dict, response) -> None:
    said = f"{request['method']} {request['path']} {request.get('data', b'')!r:.80}"
    assert response.status_code < 500, f"{said} -> {response.status_code}"
    documented = operation["responses"]
    assert str(response.status_code) in documented, \
        f"{said} -> {response.status_code}, documented: {sorted(documented)}"
    if request.get("conforms") is False:
        assert 400 <= response.status_code < 500, f"{said} broke the schema yet was accepted"
    content = documented[str(response.status_code)].get("content", {})
    if not content:
        return
    media_type = response.mimetype
    assert media_type in content, f"{said} -> {media_type}, documented: {sorted(content)}"
    if media_type == "application/json":
        body = response.get_json()
        schema = content[media_type].get("schema")
        problems = mismatches(body, schema) if schema else []
        assert not problems, f"{said} -> {response.status_code}: {problems}"


@pytest.mark.parametrize(("path", "method"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_every_call_answers_as_its_document_says(hall, path, method):
    app, station_client, known = hall
    operation = DOCUMENT["paths"][path][method]
    # The login is fuzzed from a browser of its own: a lucky token must not replace the session
    # the other calls use.
    client = app.test_client() if path.endswith("/login") else station_client

    # The same requests on every run, so CI is never red by luck; change the examples by
    # changing this file (or run it with derandomize=False to explore).
    @settings(max_examples=60, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def calls(data):
        request = _request(data.draw, path, method, operation, known)
        sent = {key: value for key, value in request.items() if key != "conforms"}
        response = client.open(**sent)
        statuses[response.status_code // 100] += 1
        _check_answer(operation, request, response)

    statuses = Counter()
    calls()
    # Checks that only ever saw refusals would prove little: every call but the login (whose
    # badges are random text) must have succeeded too, and every call taking input refused some.
    if not path.endswith("/login"):
        assert statuses[2], f"{method} {path} never succeeded: {statuses}"
    if operation.get("requestBody") or operation.get("parameters"):
        assert statuses[4], f"{method} {path} never refused: {statuses}"


SECURED = [(path, method) for path, method in OPERATIONS
           if DOCUMENT["paths"][path][method].get("security")]


@pytest.mark.parametrize(("path", "method"), SECURED,
                         ids=[f"{m.upper()} {p}" for p, m in SECURED])
def test_a_call_for_a_station_is_401_without_its_session(hall, path, method):
    app, _, known = hall
    url = path.replace("{qid}", known["qid"][0]).replace("{receipt_no}", known["receipt_no"][0])
    url = url.replace("{upload_id}", known["upload_id"][0]).replace("{material_id}", "1")
    response = app.test_client().open(url, method=method.upper(), json={},
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 401, url
    assert response.get_json()["error"] == "unauthorized"


def test_the_checker_itself_catches_what_it_claims_to():
    """A contract test that cannot fail is no test: each check is shown to fire."""
    clock_schema = {"$ref": "#/components/schemas/Clock"}
    assert mismatches({"server_time": "noon"}, clock_schema)  # required fields and a bad time
    assert mismatches({"saved": "yes", "seq": -1},
                      {"type": "object", "properties": {"saved": {"type": "boolean"},
                                                        "seq": {"type": "integer",
                                                                "minimum": 0}}})
    assert mismatches(True, {"type": "integer"})  # a boolean is not a number in JSON Schema
    assert mismatches({"sha256": "XYZ"}, {"properties": {"sha256": {"pattern": "^[0-9a-f]{64}$"}}})
    assert mismatches([1, 2, 3], {"type": "array", "maxItems": 2})
    with pytest.raises(AssertionError, match="does not check"):
        mismatches(1, {"type": "integer", "exclusiveMaximum": 3})
    operation = DOCUMENT["paths"]["/api/v1/clock"]["get"]

    class Answer:
        status_code, mimetype = 200, "application/json"

        @staticmethod
        def get_json():
            return {"server_time": clock.iso(clock.now())}

    with pytest.raises(AssertionError, match="missing"):
        _check_answer(operation, {"method": "GET", "path": "/api/v1/clock"}, Answer())
    Answer.status_code = 500
    with pytest.raises(AssertionError, match="500"):
        _check_answer(operation, {"method": "GET", "path": "/api/v1/clock"}, Answer())
