"""Hand-in ingest over loopback, in 1 MiB pieces and in one request, next to `sha256sum` and
`cp` of the same file.

    python bench/upload_ingest.py [--mb 1024]

The server hashes and age-encrypts the stream and fsyncs it; the targets are at least half the
speed of `sha256sum` end to end, and server memory growth under 64 MiB whatever the file size
(VmHWM, the peak resident set, before and after).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk import clock
from kiosk.audit import Actor
from kiosk.crypto import new_age_identity
from kiosk.instance import init_instance
from kiosk.judge_keys import add_judge_key
from kiosk.stations import phases
from kiosk.stations.registry import add_stations
from kiosk.stations.sign_in import issue_badges

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_load import free_port, wait_for

ACTOR = Actor("bench", "cli")


def vm(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def upload_in_pieces(connection: http.client.HTTPConnection, cookie: str, source: Path) -> dict:
    """The kiosk's resumable hand-in: open, then one PUT per MiB on a keep-alive connection."""
    size = source.stat().st_size
    connection.request("POST", f"/api/v1/collect/uploads?filename=work.zip&size={size}",
                       headers={"Cookie": cookie})
    response = connection.getresponse()
    opened = json.loads(response.read())
    assert response.status == 201, opened
    offset = 0
    with source.open("rb") as body:
        while offset < size:
            piece = body.read(opened["piece_bytes"])
            connection.request("PUT", f"/api/v1/collect/uploads/{opened['upload_id']}"
                               f"?offset={offset}", piece,
                               {"Content-Type": "application/octet-stream", "Cookie": cookie})
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert response.status in (200, 201), answer
            offset += len(piece)
    assert response.status == 201, answer
    return answer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        source = folder / "work.bin"
        with source.open("wb") as handle:  # incompressible, like a zip
            for _ in range(args.mb):
                handle.write(os.urandom(1024 * 1024))
        instance = init_instance(folder / "instance")
        instance.settings.upload_limit_mb = args.mb + 16
        (folder / "instance" / "config.toml").write_text(
            (folder / "instance" / "config.toml").read_text() +
            f"upload_limit_mb = {args.mb + 16}\n")
        with instance.session() as session:
            station = add_stations(session, 1, prefix="A", first_ip=None, actor=ACTOR,
                                   now=clock.now())[0]
            badge = issue_badges(session, [station], badge_key=instance.badge_key(),
                                 actor=ACTOR, now=clock.now())[0]
            add_judge_key(session, "archive", new_age_identity()[1], "archive", actor=ACTOR,
                          now=clock.now())
            phases.start(session, "practical", 60, actor=ACTOR, now=clock.now())
        instance.engine.dispose()

        started = time.perf_counter()
        subprocess.run(["sha256sum", str(source)], check=True, capture_output=True)
        sha_s = time.perf_counter() - started
        started = time.perf_counter()
        shutil.copyfile(source, folder / "copy.bin")
        with open(folder / "copy.bin", "rb+") as copied:
            os.fsync(copied.fileno())
        copy_s = time.perf_counter() - started
        (folder / "copy.bin").unlink()

        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "kiosk", "--instance",
                                   str(instance.path), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(port, server)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            connection.request("POST", "/api/v1/station/login",
                               json.dumps({"token": badge.qr_token}),
                               {"Content-Type": "application/json"})
            response = connection.getresponse()
            cookie = response.getheader("Set-Cookie").split(";", 1)[0]
            response.read()
            # In pieces first (the kiosk's way), while the peak resident set is still low.
            before_pieces = vm(server.pid, "VmHWM")
            started = time.perf_counter()
            pieces_result = upload_in_pieces(connection, cookie, source)
            pieces_s = time.perf_counter() - started
            after_pieces = vm(server.pid, "VmHWM")
            before = vm(server.pid, "VmHWM")
            started = time.perf_counter()
            with source.open("rb") as body:
                connection.request("POST", "/api/v1/collect/upload?filename=work.zip", body,
                                   {"Content-Type": "application/octet-stream",
                                    "Content-Length": str(source.stat().st_size),
                                    "Cookie": cookie})
                response = connection.getresponse()
                result = json.loads(response.read())
            ingest_s = time.perf_counter() - started
            after = vm(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=10)
        assert response.status == 201, result
        assert pieces_result["sha256"] == result["sha256"], pieces_result
    mb = args.mb
    print(f"upload ingest of {mb} MiB (random bytes), loopback, same disk:")
    print(f"  sha256sum of the file:       {mb / sha_s:8.0f} MiB/s  ({sha_s:.2f} s)")
    print(f"  plain copy + fsync:          {mb / copy_s:8.0f} MiB/s  ({copy_s:.2f} s)")
    print(f"  kiosk upload (hash+age+fsync):{mb / ingest_s:7.0f} MiB/s  ({ingest_s:.2f} s)   "
          f"ratio to sha256sum {sha_s / ingest_s:.2f} (target >= 0.5)")
    print(f"  kiosk upload in 1 MiB pieces: {mb / pieces_s:6.0f} MiB/s  ({pieces_s:.2f} s)   "
          f"ratio to sha256sum {sha_s / pieces_s:.2f} (target >= 0.5)")
    print(f"  server peak RSS, pieces:     {before_pieces:.0f} MiB before, {after_pieces:.0f} MiB "
          f"after (growth {after_pieces - before_pieces:.0f} MiB, target < 64)")
    print(f"  server peak RSS, one request: {before:.0f} MiB before, {after:.0f} MiB after "
          f"(growth {after - before:.0f} MiB, target < 64)")


if __name__ == "__main__":
    main()
