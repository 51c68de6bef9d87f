"""Serving with waitress, tuned for a hall of hundreds of workstations."""

from __future__ import annotations

import gc
import logging
import os
import sys

from flask import Flask

from kiosk.http import BULK_LANES, create_kiosk_server

log = logging.getLogger("kiosk")

# A kiosk holds a connection around its requests (keepalive_idle_seconds), up to 6 while a page
# loads; polling never holds a thread.
CONNECTION_LIMIT = 2000
# select() stops at 512 sockets on Windows (FD_SETSIZE); stay below it there. The listening
# socket and waitress's wake-up socket are in the same map, counted against the limit.
WINDOWS_CONNECTION_LIMIT = 500
# Silence longer than this closes any connection, a request half sent included (waitress).
CHANNEL_TIMEOUT = 30
INBUF_OVERFLOW = 2 * 1024 * 1024


def waitress_options(app: Flask, host: str, port: int, threads: int,
                     windows: bool | None = None) -> dict:
    """Waitress's settings for this instance; `windows` (default: this machine) is the system the
    server runs on."""
    settings = app.config["KIOSK_SETTINGS"]
    windows = os.name == "nt" if windows is None else windows
    return {
        "host": host,
        "port": port,
        "threads": threads,
        "connection_limit": WINDOWS_CONNECTION_LIMIT if windows else CONNECTION_LIMIT,
        # poll() instead of select(): select() fails past 1024 sockets on Linux.
        "asyncore_use_poll": not windows,
        "backlog": 2048,
        # Close silent connections soon, so dead workstations do not hold sockets; kept-alive
        # connections idle between requests close sooner (keepalive_idle_seconds, kiosk.http).
        "channel_timeout": CHANNEL_TIMEOUT,
        # Also how often unfinished headers are checked against header_timeout_seconds.
        "cleanup_interval": 2,
        # Hand-ins are large: receive them in 256 KiB pieces, not waitress's default 8 KiB
        # (131 072 trips through the event loop per GiB).
        "recv_bytes": 256 * 1024,
        # A route whose bodies fit in this stays in memory (a resumable piece of
        # web.PIECE_BODY_LIMIT with its headers never touches the disk); a hand-in spools,
        # encrypted, after 512 KiB (kiosk.http).
        "inbuf_overflow": INBUF_OVERFLOW,
        # The largest body is an upload; waitress refuses anything bigger before the app runs.
        "max_request_body_size": settings.upload_limit_mb * 1024 * 1024 + 1024 * 1024,
        # Take a client address or scheme from headers only from the local TLS terminator
        # (behind_proxy); otherwise from nobody, since any client can forge them.
        **({"trusted_proxy": "127.0.0.1", "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto",
                                      "x-forwarded-host", "x-forwarded-port"}}
           if settings.behind_proxy else {"trusted_proxy": None}),
        "clear_untrusted_proxy_headers": True,
        "ident": "kiosk",
    }


# Threads beside the workers that may hold a database connection: the bulk lane's (BULK_LANES),
# the automatic backup, a page's export job, the badge tally's flusher; with room to spare.
OTHER_CONNECTIONS = BULK_LANES + 6


def connections_for(threads: int) -> int:
    """The database connections a server of `threads` workers keeps ready: one for every thread
    that may hold one at once. Fewer, and past them a request waits for a connection and fails
    after the pool's 60 s (a 500 at 96 threads on the default 20 + 40, bench/hall_day.py)."""
    return threads + OTHER_CONNECTIONS


# How long a thread may hold the interpreter before another that waits gets it (Python's default:
# 5 ms). A save's batch runs some 45 statements, and after each the leader waits for the
# interpreter again, behind the hand-ins' event loop and bulk lane: at the default, 15 writes
# took p50 56 ms / p99 1.8 s beside 100 MiB/s of hand-ins; at 0.5 ms, 40 / 166 ms, and the saves
# went through at 145 a second instead of 64 (bench/hall_day.py, docs/performance.md).
SWITCH_INTERVAL_S = 0.0005


def serve(app: Flask, host: str, port: int, threads: int) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = app.config["KIOSK_SETTINGS"]
    server = create_kiosk_server(app, app, header_timeout=settings.header_timeout_seconds,
                                 connections_per_address=settings.connections_per_address,
                                 keepalive_idle=settings.keepalive_idle_seconds,
                                 **waitress_options(app, host, port, threads))
    server.print_listen("Serving on http://{}:{}")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    freeze_what_lives_on()
    server.run()


def freeze_what_lives_on() -> None:
    """The app as built (its modules, routes, catalogs, compiled statements: ~150 000 objects)
    lives as long as the process: out of the cyclic collector's sight, so that a full
    collection under load walks only what requests made, instead of holding the interpreter
    ~70 ms each time (issue 19: every request in flight waits for it)."""
    gc.collect()
    gc.freeze()
