"""Two `kiosk serve` processes on one database answer the same stations: a workstation may be
sent to either by a load balancer, and nothing depends on which one it reached."""

import random
import threading

from kiosk import clock
from kiosk.stations import phases
from tests.actors import CHIEF
from tests.servers import Client, Server, cli


def test_two_servers_share_answers_sessions_and_announcements(exam_event, kiosk_instance):
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=clock.now())
    exam_event.instance.engine.dispose()
    first, second = Server(kiosk_instance.path).start(), Server(kiosk_instance.path).start()
    try:
        workstation = Client(first)
        token = exam_event.badges["A01"].qr_token
        assert workstation.call("POST", "/api/v1/station/login", {"token": token})[0] == 200
        paper = workstation.call("GET", "/api/v1/exam/paper")[1]
        rng, acknowledged = random.Random(3), {}
        for seq in range(1, 41):
            # Round robin, as a load balancer without sticky sessions would do.
            workstation.server = first if seq % 2 else second
            question = rng.choice(paper["questions"])
            key = rng.choice(question["options"])["key"]
            status, body = workstation.call("PUT", f"/api/v1/exam/answers/{question['id']}",
                                            {"choice": key, "seq": seq})
            assert status == 200 and body["saved"], body
            acknowledged[question["id"]] = key
        for server in (first, second):
            workstation.server = server
            assert workstation.call("GET", "/api/v1/exam/paper")[1]["answers"] == acknowledged
        # An older write arriving late at the other server changes nothing.
        workstation.server = second
        qid = next(iter(acknowledged))
        other = next(o["key"] for q in paper["questions"] if q["id"] == qid
                     for o in q["options"] if o["key"] != acknowledged[qid])
        status, body = workstation.call("PUT", f"/api/v1/exam/answers/{qid}",
                                        {"choice": other, "seq": 5})
        assert status == 200 and not body["saved"]
        # One browser per station holds across processes: a second browser on the other
        # server is refused while the first holds the station.
        intruder = Client(second)
        assert intruder.call("POST", "/api/v1/station/login", {"token": token})[0] == 409
        # An announcement posted once reaches workstations on both servers.
        cli(kiosk_instance.path, "announce", "请检查姓名以外的信息")
        for server in (first, second):
            workstation.server = server
            clock_body = workstation.call("GET", "/api/v1/clock")[1]
            assert [a["text"] for a in clock_body["announcements"]] == ["请检查姓名以外的信息"]
        workstation.server = first
        status, submitted = workstation.call("POST", "/api/v1/exam/submit")
        assert status == 200 and submitted["answered"] == len(acknowledged)
    finally:
        first.stop()
        second.stop()


def test_two_servers_committing_saves_together_neither_loses_nor_deadlocks(exam_event,
                                                                           kiosk_instance):
    """Every station saving at once through both servers, alternately: each server batches
    the saves it receives (kiosk.group_commit) and the two processes' batches touch the same
    stations' rows; every save is answered, none refused, and the newest seq of each question
    is what both servers show."""
    phases.start(exam_event.session, "theory", 20, actor=CHIEF, now=clock.now())
    exam_event.instance.engine.dispose()
    servers = [Server(kiosk_instance.path).start(), Server(kiosk_instance.path).start()]
    try:
        clients = {}
        for code, badge in exam_event.badges.items():
            clients[code] = Client(servers[0])
            assert clients[code].call("POST", "/api/v1/station/login",
                                      {"token": badge.qr_token})[0] == 200
        papers = {code: c.call("GET", "/api/v1/exam/paper")[1] for code, c in clients.items()}
        acknowledged: dict[str, dict[str, str]] = {code: {} for code in clients}
        failures: list = []

        def station(code: str) -> None:
            rng, client = random.Random(code), clients[code]
            # Few questions, many saves: the two servers keep writing the same rows.
            questions = papers[code]["questions"][:3]
            for seq in range(1, 61):
                client.server = servers[seq % 2]
                question = rng.choice(questions)
                key = rng.choice(question["options"])["key"]
                status, body = client.call("PUT", f"/api/v1/exam/answers/{question['id']}",
                                           {"choice": key, "seq": seq}, timeout=30)
                if status != 200 or not body["saved"]:
                    failures.append((code, seq, status, body))
                acknowledged[code][question["id"]] = key

        workers = [threading.Thread(target=station, args=(code,)) for code in clients]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        assert failures == []
        for server in servers:
            for code, client in clients.items():
                client.server = server
                assert client.call("GET", "/api/v1/exam/paper")[1]["answers"] == \
                    acknowledged[code]
    finally:
        for server in servers:
            server.stop()
