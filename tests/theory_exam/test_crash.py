"""SIGKILL the server between saves: every acknowledged answer is there after the restart."""

import random

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
