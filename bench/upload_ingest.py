"""Hand-in ingest over loopback, in pieces and in one request, next to `sha256sum` of the same
file, with where the time goes.

    python bench/upload_ingest.py [--mb 256] [--piece-mb 1 4] [--skip-one-request]

One run prints, on the same file and the same (shared) cores:
- the reference: `sha256sum` of the file (target: the kiosk at >= 0.8 of its speed);
- the stages of the server's ingest done here, in process, on the same bytes, each alone: the
  SHA-256 of the plaintext, age encryption (kiosk.crypto.AgeEncryptor), the SHA-256 of the
  ciphertext, the encrypted spool of a one-request body (written and read back), the final
  fsync; then the whole pipeline (hand_ins.ArchiveStream: all of them in order, as a piece
  goes in), which is the ceiling of any upload over HTTP;
- how long another thread waits for the interpreter lock while that pipeline runs, next to the
  same with pyrage's encrypt_io (what the server used before): the lock an ingest holds is what
  answer saves wait for;
- the uploads over HTTP: pieces of each --piece-mb (the kiosk's way), the same piece sent again
  (already acknowledged, so nothing is hashed or encrypted: the cost of the socket, waitress and
  Flask alone), and one request; each with the server's CPU by thread and the client's;
- the server's peak memory before and after (VmHWM; target growth < 64 MiB).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from kiosk import clock
from kiosk.audit import Actor
from kiosk.collect import hand_ins, resumable
from kiosk.crypto import AgeEncryptor, new_age_identity, parse_recipient
from kiosk.http import EncryptedSpoolFile
from kiosk.instance import init_instance
from kiosk.judge_keys import add_judge_key
from kiosk.stations import phases
from kiosk.stations.registry import add_stations
from kiosk.stations.sign_in import issue_badges

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_load import free_port, wait_for

ACTOR = Actor("bench", "cli")
MiB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")


def vm(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def thread_cpu(pid: int) -> dict[tuple[int, str], float]:
    """CPU seconds (user + system) of each thread of `pid`, by (tid, name)."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        times[(int(tid), name)] = (int(fields[11]) + int(fields[12])) / TICK
    return times


def cpu_by_role(pid: int, before: dict, after: dict) -> dict[str, float]:
    """CPU seconds spent between two samples, by role: the event loop (waitress's main thread:
    sockets, parsing, buffering), the worker threads (Flask, hashing, encryption), the rest."""
    roles = {"event loop": 0.0, "workers": 0.0, "other": 0.0}
    for (tid, name), seconds in after.items():
        spent = seconds - before.get((tid, name), 0.0)
        role = ("event loop" if tid == pid else
                "workers" if name.startswith("waitress-") else "other")
        roles[role] += spent
    return roles


def process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def pieces_of(source: Path, piece: int):
    """The file in pieces read into one reused buffer (a memoryview valid until the next)."""
    buffer = memoryview(bytearray(piece))
    with source.open("rb", buffering=0) as handle:
        while True:
            count = handle.readinto(buffer)
            if not count:
                return
            yield buffer[:count]


# ----------------------------------------------------------------------------- in process

def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def timed_cpu(call) -> tuple[float, float]:
    """Wall and CPU seconds (this process) of `call`."""
    started, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - started, time.process_time() - cpu


def sha256sum(source: Path) -> tuple[float, float]:
    """Wall and CPU seconds of `sha256sum` on the file."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(lambda: subprocess.run(["sha256sum", str(source)], check=True,
                                        capture_output=True))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def stages(source: Path, folder: Path, recipient) -> dict[str, tuple[float, float]]:
    """Each stage of the server's ingest alone, in this process, on the file's bytes: wall and
    CPU seconds."""
    results = {}
    results["read the file (page cache)"] = timed_cpu(
        lambda: [None for _ in pieces_of(source, MiB)])

    def plain_hash():
        digest = hashlib.sha256()
        for piece in pieces_of(source, MiB):
            digest.update(piece)
    results["SHA-256 of the plaintext"] = timed_cpu(plain_hash)

    def encrypt(sink):
        age = AgeEncryptor([recipient], sink)
        for piece in pieces_of(source, MiB):
            age.update(piece)
        age.finish()
    results["age encryption (ChaCha20-Poly1305)"] = timed_cpu(lambda: encrypt(lambda view: None))
    cipher = hashlib.sha256()
    results["SHA-256 of the ciphertext"] = timed_cpu(lambda: encrypt(cipher.update))
    results["SHA-256 of the ciphertext"] = tuple(  # type: ignore[assignment]
        max(0.0, both - alone) for both, alone in zip(
            results["SHA-256 of the ciphertext"], results["age encryption (ChaCha20-Poly1305)"],
            strict=True))

    def spool():
        with EncryptedSpoolFile() as spooled:
            for piece in pieces_of(source, 256 * 1024):  # as waitress appends (recv_bytes)
                spooled.write(piece)
            spooled.seek(0)
            buffer = memoryview(bytearray(MiB))
            while spooled.readinto(buffer):
                pass
    results["spool, one request only (AES-CTR in and out)"] = timed_cpu(spool)

    def write_and_fsync():
        with open(folder / "fsync.bin", "wb", buffering=0) as handle:
            results["write the file (page cache)"] = timed_cpu(
                lambda: [handle.write(piece) for piece in pieces_of(source, MiB)])
            results["final fsync (the disk)"] = timed_cpu(lambda: os.fsync(handle.fileno()))
        (folder / "fsync.bin").unlink()
    write_and_fsync()
    return results


def pipeline(source: Path, archives: Path, recipient, piece: int) -> tuple[float, float]:
    """hand_ins.ArchiveStream fed the file piece by piece, then finished: the server's work
    for one hand-in without HTTP."""
    started, cpu = time.perf_counter(), time.process_time()
    stream = hand_ins.ArchiveStream(archives, [recipient], idle=timedelta(minutes=1))
    for part in pieces_of(source, piece):
        stream.feed(part)
    stream.finish()
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    (archives / stream.stored_name).unlink()
    return elapsed


def gil_wait(work) -> tuple[float, float, float]:
    """While `work` runs in another thread, how late a thread that sleeps 1 ms wakes up (it
    needs the interpreter lock to go on): p50, p99 and max, in ms."""
    lateness: list[float] = []
    done = threading.Event()

    def probe():
        while not done.is_set():
            asked = time.perf_counter()
            time.sleep(0.001)
            lateness.append((time.perf_counter() - asked - 0.001) * 1000)

    prober = threading.Thread(target=probe)
    prober.start()
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    done.set()
    prober.join()
    lateness.sort()
    return (lateness[len(lateness) // 2], lateness[int(len(lateness) * 0.99)], lateness[-1])


def spin(seconds: float = 0.5) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        pass


def pyrage_pipeline(source: Path, recipient) -> None:
    """What the server did before: pyrage.encrypt_io reading the pieces (8 KiB at a time)."""
    import pyrage

    class Reader:
        def __init__(self) -> None:
            self.pieces = (bytes(p) for p in pieces_of(source, MiB))
            self.buffer = memoryview(b"")

        def read(self, n: int = -1) -> bytes:
            if not self.buffer:
                self.buffer = memoryview(next(self.pieces, b""))
            data, self.buffer = self.buffer[:n], self.buffer[n:]
            return bytes(data)

    class Writer:
        def __init__(self) -> None:
            self.hash = hashlib.sha256()

        def write(self, data: bytes) -> int:
            self.hash.update(data)
            return len(data)

        def flush(self) -> None:
            pass

    pyrage.encrypt_io(Reader(), Writer(), [recipient])


# ----------------------------------------------------------------------------- over HTTP

def open_upload(connection, cookie: str, size: int) -> dict:
    connection.request("POST", f"/api/v1/collect/uploads?filename=work.zip&size={size}",
                       headers={"Cookie": cookie})
    response = connection.getresponse()
    opened = json.loads(response.read())
    assert response.status == 201, opened
    return opened


def put_piece(connection, cookie: str, upload_id: str, offset: int, piece) -> tuple[int, dict]:
    connection.request("PUT", f"/api/v1/collect/uploads/{upload_id}?offset={offset}", piece,
                       {"Content-Type": "application/octet-stream", "Cookie": cookie})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def upload_in_pieces(connection, cookie: str, source: Path, piece: int) -> dict:
    """The kiosk's resumable hand-in: open, then one PUT per piece on a keep-alive connection."""
    size = source.stat().st_size
    opened = open_upload(connection, cookie, size)
    assert piece <= opened["piece_bytes"], opened
    offset, status, answer = 0, 0, {}
    for part in pieces_of(source, piece):
        status, answer = put_piece(connection, cookie, opened["upload_id"], offset, part)
        assert status in (200, 201), answer
        offset += len(part)
    assert status == 201, answer
    return answer


def resend_acknowledged(connection, cookie: str, source: Path, piece: int) -> None:
    """The file's worth of bytes as one piece sent again and again at offset 0 of an upload
    that already has it: answered like any piece, nothing hashed, encrypted or written."""
    size = source.stat().st_size
    opened = open_upload(connection, cookie, size)
    first = next(pieces_of(source, piece))
    data = bytes(first)
    status, answer = put_piece(connection, cookie, opened["upload_id"], 0, data)
    assert status in (200, 201), answer
    for _ in range(size // piece):
        status, answer = put_piece(connection, cookie, opened["upload_id"], 0, data)
        assert status in (200, 201) and answer["offset"] == len(data), answer
    connection.request("DELETE", f"/api/v1/collect/uploads/{opened['upload_id']}",
                       headers={"Cookie": cookie})
    connection.getresponse().read()


def upload_one_request(connection, cookie: str, source: Path) -> dict:
    with source.open("rb") as body:
        connection.request("POST", "/api/v1/collect/upload?filename=work.zip", body,
                           {"Content-Type": "application/octet-stream",
                            "Content-Length": str(source.stat().st_size), "Cookie": cookie})
        response = connection.getresponse()
        result = json.loads(response.read())
    assert response.status == 201, result
    return result


def measured(server_pid: int, call) -> dict:
    before_cpu, before_client = thread_cpu(server_pid), process_cpu()
    before_hwm = vm(server_pid, "VmHWM")
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "result": result,
            "cpu": cpu_by_role(server_pid, before_cpu, thread_cpu(server_pid)),
            "client": process_cpu() - before_client,
            "hwm": (before_hwm, vm(server_pid, "VmHWM"))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=256)
    parser.add_argument("--piece-mb", type=float, nargs="+",
                        default=sorted({1, resumable.PIECE_BYTES / MiB}),
                        help="piece sizes to upload in (at most the server's piece_bytes)")
    parser.add_argument("--skip-one-request", action="store_true")
    args = parser.parse_args()
    mb = args.mb
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        folder = Path(tmp)
        source = folder / "work.bin"
        with source.open("wb") as handle:  # incompressible, like a zip
            for _ in range(mb):
                handle.write(os.urandom(MiB))
        instance = init_instance(folder / "instance")
        (folder / "instance" / "config.toml").write_text(
            (folder / "instance" / "config.toml").read_text() +
            f"upload_limit_mb = {mb + 16}\n")
        recipient_text = new_age_identity()[1]
        recipient = parse_recipient(recipient_text)
        with instance.session() as session:
            station = add_stations(session, 1, prefix="A", first_ip=None, actor=ACTOR,
                                   now=clock.now())[0]
            badge = issue_badges(session, [station], badge_key=instance.badge_key(),
                                 actor=ACTOR, now=clock.now())[0]
            add_judge_key(session, "archive", recipient_text, "archive", actor=ACTOR,
                          now=clock.now())
            phases.start(session, "practical", 60, actor=ACTOR, now=clock.now())
        instance.engine.dispose()

        sha256sum(source)  # the file in the page cache, as it is for the uploads
        sha_s, sha_cpu = sha256sum(source)
        alone = stages(source, folder, recipient)
        scratch = folder / "scratch"
        pipelines = {piece: pipeline(source, scratch, recipient, int(piece * MiB))
                     for piece in args.piece_mb}
        sha_again, sha_cpu_again = sha256sum(source)
        gil = {"nothing (the machine's own noise)": gil_wait(lambda: time.sleep(0.5)),
               "pure Python holding the lock (the worst)": gil_wait(spin),
               "one hand-in's ArchiveStream (now)": gil_wait(
                   lambda: pipeline(source, scratch, recipient, MiB)),
               "pyrage.encrypt_io + SHA-256 (before)": gil_wait(
                   lambda: pyrage_pipeline(source, recipient))}

        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "kiosk", "--instance",
                                   str(instance.path), "serve", "--host", "127.0.0.1",
                                   "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs: dict[str, dict] = {}
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
            for piece in args.piece_mb:
                runs[f"kiosk upload in {piece:g} MiB pieces"] = measured(
                    server.pid, lambda piece=piece: upload_in_pieces(
                        connection, cookie, source, int(piece * MiB)))
            top = max(args.piece_mb)
            runs[f"  same bytes as {top:g} MiB pieces already acknowledged"] = measured(
                server.pid, lambda: resend_acknowledged(connection, cookie, source,
                                                        int(top * MiB)))
            if not args.skip_one_request:
                runs["kiosk upload in one request"] = measured(
                    server.pid, lambda: upload_one_request(connection, cookie, source))
        finally:
            server.terminate()
            server.wait(timeout=10)
        hashes = {run["result"]["sha256"] for run in runs.values() if run["result"]}
        assert len(hashes) == 1, hashes

    reference = min(sha_s, sha_again)
    reference_cpu = min(sha_cpu, sha_cpu_again)
    print(f"upload ingest of {mb} MiB (random bytes), loopback, same disk, "
          f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f}):")
    print(f"  sha256sum of the file:  {mb / reference:6.0f} MiB/s  ({reference:.2f} s, CPU "
          f"{reference_cpu:.2f} s; {sha_s:.2f} s and {sha_again:.2f} s before and after the "
          f"stages)   the reference")
    print("the server's stages, each alone in process on the same bytes (wall, CPU, share of "
          "sha256sum's time):")
    for name, (seconds, cpu) in alone.items():
        print(f"  {name:46s} {seconds:6.2f} s  CPU {cpu:5.2f} s  {seconds / reference:5.2f}")
    for piece, (seconds, cpu) in pipelines.items():
        print(f"  all in order, {piece:g} MiB pieces (ArchiveStream)    {seconds:6.2f} s  CPU "
              f"{cpu:5.2f} s  ratio to sha256sum {reference / seconds:.2f}: the ceiling over HTTP")
    print("the interpreter lock: how late a thread sleeping 1 ms wakes up while this runs "
          "beside it (ms):")
    for name, (p50, p99, worst) in gil.items():
        print(f"  {name:46s} p50 {p50:5.2f}  p99 {p99:5.2f}  max {worst:6.2f}")
    print("over HTTP (server CPU by thread: event loop = waitress's sockets, parsing and "
          "buffers; workers = Flask and the ingest):")
    for name, run in runs.items():
        seconds, cpu = run["seconds"], run["cpu"]
        server_cpu = sum(cpu.values())
        ratio = (f"ratio to sha256sum {reference / seconds:.2f}" if run["result"] else
                 f"{seconds / reference:.2f} of sha256sum's time")
        print(f"  {name:46s} {mb / seconds:6.0f} MiB/s  ({seconds:.2f} s)   {ratio}")
        piece = next((p for p in pipelines if f" {p:g} MiB pieces" in name), None)
        if run["result"] and piece is not None:
            rest = seconds - pipelines[piece][0]
            print(f"      beyond the in-process pipeline: {rest:.2f} s ({rest / seconds:.0%} of "
                  f"the upload: the socket, waitress, Flask, one request per piece)")
        print(f"      server CPU {server_cpu:.2f} s ({server_cpu / reference_cpu:.2f} x "
              f"sha256sum's): event loop {cpu['event loop']:.2f} s, workers "
              f"{cpu['workers']:.2f} s, other {cpu['other']:.2f} s; client CPU "
              f"{run['client']:.2f} s; peak RSS {run['hwm'][0]:.0f} -> {run['hwm'][1]:.0f} MiB "
              f"(growth {run['hwm'][1] - run['hwm'][0]:.0f}, target < 64)")

if __name__ == "__main__":
    main()
