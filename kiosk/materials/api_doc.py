"""The stations' task-book calls as kiosk/openapi.py describes them: `**materials_paths()` in
its "paths" and `**materials_schemas()` in its schemas (kept beside the views they describe)."""

from __future__ import annotations

_ERROR = {"description": "Error",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def materials_schemas() -> dict:
    return {"Materials": {
        "type": "object", "required": ["materials"],
        "properties": {"materials": {"type": "array", "items": {
            "type": "object", "required": ["part", "name", "size", "sha256", "url"],
            "properties": {"part": {"type": "string"}, "name": {"type": "string"},
                           "size": {"type": "integer", "minimum": 1},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "url": {"type": "string"}}}}}}}


def materials_paths() -> dict:
    return {
        "/api/v1/materials": {"get": {
            "summary": "The task books (任务书) of the parts released so far and still open "
                       "for this station",
            "security": [{"stationSession": []}],
            "responses": {"200": {"description": "Released files", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Materials"}}}},
                "401": _ERROR},
        }},
        "/api/v1/materials/{material_id}": {"get": {
            "summary": "One task-book file: 403 before its part's release (never one second "
                       "early) and once the part is over for this station; each fetch is "
                       "recorded",
            "security": [{"stationSession": []}],
            "parameters": [{"name": "material_id", "in": "path", "required": True,
                            # a path is text: the id's digits, as the listing's url gives them
                            "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"}}],
            "responses": {"200": {"description": "The file (Content-Disposition names it)",
                                  "content": {"application/octet-stream": {}}},
                          "401": _ERROR, "403": _ERROR, "404": _ERROR},
        }},
    }
