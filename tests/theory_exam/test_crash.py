"""SIGKILL the server between saves: every acknowledged answer is there after the restart."""

import http.client
import random
import threading
import time

import pytest

from kiosk import clock
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.servers import Client, Server


@pytest.mark.parametrize("kills", [3])
def test_every_acknowledged_answer_survives_sigkill(exam_event, kiosk_instance, kills):
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=clock.now())
    exam_event.instance.engine.dispose()
    rng = random.Random(7)
    badge = exam_event.badges["A01"]
    acknowledged: dict[str, tuple[int, str]] = {}
    seq = 0
    server = Server(kiosk_instance.path).start()
    client = Client(server)  # one workstation: its cookie outlives the server's restarts
    assert client.call("POST", "/api/v1/station/login", {"token": badge.qr_token})[0] == 200
    try:
        for _ in range(kills):
            status, paper = client.call("GET", "/api/v1/exam/paper")
            assert status == 200
            # The paper after every restart shows exactly what was acknowledged before it.
            assert {qid: key for qid, (_, key) in acknowledged.items()} == paper["answers"]
            for _ in range(rng.randint(5, 25)):
                question = rng.choice(paper["questions"])
                key = rng.choice(question["options"])["key"]
                seq += 1
                status, body = client.call("PUT", f"/api/v1/exam/answers/{question['id']}",
                                           {"choice": key, "seq": seq})
                if status == 200 and body["saved"]:
                    acknowledged[question["id"]] = (seq, key)
            server.kill()  # mid-exam, no warning
            server = Server(kiosk_instance.path, server.port).start()
        final = client.call("GET", "/api/v1/exam/paper")[1]
        assert final["answers"] == {qid: key for qid, (_, key) in acknowledged.items()}
        assert final["last_seq"] == seq
    finally:
        server.stop()


def test_saves_committed_together_survive_sigkill(exam_event, kiosk_instance):
    """Every station saving at once, so that saves share commits (kiosk.group_commit), while
    the server is killed three times: each answer a station heard "saved" is there after, and
    a save cut off by the kill is sent again with the same seq, as the kiosk's queue does."""
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=clock.now())
    exam_event.instance.engine.dispose()
    server = Server(kiosk_instance.path).start()
    clients = {code: Client(server) for code in exam_event.badges}
    for code, client in clients.items():
        assert client.call("POST", "/api/v1/station/login",
                           {"token": exam_event.badges[code].qr_token})[0] == 200
    papers = {code: client.call("GET", "/api/v1/exam/paper")[1] for code, client in
              clients.items()}
    acknowledged: dict[str, dict[str, str]] = {code: {} for code in clients}
    refused: list[tuple[int, dict]] = []
    stop = threading.Event()

    def station(code: str) -> None:
        rng, seq, client = random.Random(code), 0, clients[code]
        while not stop.is_set():
            question = rng.choice(papers[code]["questions"])
            key = rng.choice(question["options"])["key"]
            seq += 1
            while not stop.is_set():
                try:
                    status, body = client.call("PUT", f"/api/v1/exam/answers/{question['id']}",
                                               {"choice": key, "seq": seq}, timeout=5)
                except (OSError, http.client.HTTPException):  # killed: the same save again
                    time.sleep(0.05)
                    continue
                if status >= 500:
                    continue
                if status == 200 and body["saved"]:
                    acknowledged[code][question["id"]] = key
                else:
                    refused.append((status, body))
                break

    workers = [threading.Thread(target=station, args=(code,)) for code in clients]
    for worker in workers:
        worker.start()
    try:
        for _ in range(3):
            time.sleep(1.5)
            server.kill()
            server.start()
    finally:
        time.sleep(1)
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    try:
        assert refused == []
        assert sum(map(len, acknowledged.values())) > 20  # the stations really saved
        for code, client in clients.items():
            assert client.call("GET", "/api/v1/exam/paper")[1]["answers"] == acknowledged[code]
    finally:
        server.stop()
