"""The ceiling: the same framework, waitress settings and SQLite pragmas as kiosk, with nothing
else. GET /ping answers a constant; POST /insert commits one row (BEGIN IMMEDIATE, fsync)."""

from __future__ import annotations

import sys
from pathlib import Path

from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from waitress import serve

from kiosk.db import make_engine, write_transaction
from kiosk.serve import CONNECTION_LIMIT


def main() -> None:
    folder, port, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    engine = make_engine(f"sqlite:///{folder / 'bare.sqlite3'}")
    metadata = MetaData()
    rows = Table("row", metadata, Column("id", Integer, primary_key=True), Column("v", String))
    metadata.create_all(engine)
    from sqlalchemy.orm import Session

    app = Flask(__name__)

    @app.get("/ping")
    def ping():
        return jsonify({"ok": True})

    @app.post("/insert")
    def insert_row():
        with Session(engine) as session, write_transaction(session):
            session.execute(insert(rows).values(v="x"))
        return jsonify({"ok": True})

    serve(app, host="127.0.0.1", port=port, threads=threads, connection_limit=CONNECTION_LIMIT,
          asyncore_use_poll=True, backlog=2048, channel_timeout=30, ident="bare")


if __name__ == "__main__":
    main()
