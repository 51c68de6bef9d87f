"""`kiosk rehearse`: the whole exam day, played on a fresh demo instance in a few minutes.

Organisers run it the evening before on the server itself (it proves the installation: fonts,
keys, database, encryption, PDFs), and CI runs it. Staff steps go through the same services as
the pages; the simulated stations go through the real HTTP API (badge login, paper, answers,
submit, upload, receipt), in-process. Each step prints its outcome and its time; the first
failure stops the rehearsal with the reason.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from kiosk import audit, clock, staff
from kiosk.app import create_app
from kiosk.backup import make_backup, restore_backup
from kiosk.checkin import draw_stages
from kiosk.checkin.badges import render_badges
from kiosk.checkin.models import Contestant
from kiosk.checkin.records import record_sheet
from kiosk.checkin.roster import check_in
from kiosk.checkpoints import checkpoint_for_print
from kiosk.collect.export import export_bundle, verify_bundle
from kiosk.collect.hand_ins import verify_receipt
from kiosk.crypto import load_verify_key, read_identity_file
from kiosk.demo import build_demo
from kiosk.results import final, mark_entry, review, submission, unsealing
from kiosk.stations import phases
from kiosk.stations.models import Station
from kiosk.stations.sign_in import issue_badges
from kiosk.theory_exam.exam import grade_all

ACTOR = audit.Actor("rehearsal", "cli")


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Rehearsal:
    path: Path
    stations: int
    report: Callable[[Step], None] = lambda step: None
    steps: list[Step] = field(default_factory=list)
    state: dict = field(default_factory=dict)

    def step(self, name: str, action: Callable[[], str]) -> bool:
        started = time.perf_counter()
        try:
            detail, ok = action(), True
        except Exception as exc:  # the rehearsal reports every failure, then stops
            detail, ok = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}", False
        result = Step(name, ok, round(time.perf_counter() - started, 3), detail)
        self.steps.append(result)
        self.report(result)
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


def rehearse(path: Path, *, stations: int = 12,
             report: Callable[[Step], None] = lambda step: None) -> Rehearsal:
    run = Rehearsal(path, stations, report)
    try:
        for name, action in _STEPS:
            if not run.step(name, lambda action=action: action(run)):
                break
    finally:
        for key in ("instance",):
            if key in run.state:
                run.state[key].engine.dispose()
        if "app" in run.state:
            run.state["app"].extensions["kiosk"].engine.dispose()
    return run


# ----------------------------------------------------------------------------- the steps

def _instance(run: Rehearsal):
    return run.state["instance"]


def _build(run: Rehearsal) -> str:
    instance, info = build_demo(run.path)
    run.state.update(instance=instance, info=info,
                     password={u["role"]: u["password"] for u in info["users"]},
                     keys={k["role"]: k["identity_file"] for k in info["judge_keys"]})
    return f"{run.path}: {len(info['users'])} staff accounts, {len(info['stations'])} stations"


def _check_in(run: Rehearsal) -> str:
    with _instance(run).session() as session:
        people = list(session.scalars(select(Contestant).order_by(Contestant.id)))
        # The demo roster is larger than the rehearsal: the rest are recorded absent.
        for person in people[:run.stations]:
            check_in(session, person.id, staff_id=None, actor=ACTOR, now=clock.now())
    return f"{run.stations} of {len(people)} checked in"


def _draw(stage: int) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        instance = _instance(run)
        name = instance.settings.event_name
        with instance.session() as session:
            committed = draw_stages.commit(session, stage, actor=ACTOR, now=clock.now())
            draw_stages.draw(session, stage, "3 1 4 1 5 9", commitment=committed.commitment,
                             actor=ACTOR, now=clock.now())
            draw_stages.prepare_seal(session, stage, event_name=name, actor=ACTOR, now=clock.now())
            mapping = draw_stages.plaintext_mapping(session, stage)
            sheet = record_sheet(mapping, kind=stage, event_name=name,
                                 session_name=instance.settings.session_name,
                                 checkpoint=checkpoint_for_print(instance),
                                 font_config=instance.settings.pdf_font)
            (run.path / f"rehearsal-record-{stage}.pdf").write_bytes(sheet)
            sealed = draw_stages.seal(session, stage, event_name=name, actor=ACTOR, now=clock.now())
            draw_stages.export_sealed(session, stage, instance.sealed_dir)
        return (f"{len(mapping.pairs)} drawn, commitment {committed.commitment[:12]}…, sealed "
                f"{sealed.ciphertext_sha256[:12]}…, record sheet {len(sheet)} bytes")
    return action


def _badges(run: Rehearsal) -> str:
    instance = _instance(run)
    with instance.session() as session:
        taken = list(session.scalars(select(Station).where(Station.occupied)
                                     .order_by(Station.code)))
        secrets = issue_badges(session, taken, badge_key=instance.badge_key(), actor=ACTOR,
                               now=clock.now())
    pdf = render_badges(secrets, event_name=instance.settings.event_name,
                        session_name=instance.settings.session_name,
                        font_config=instance.settings.pdf_font)
    (run.path / "rehearsal-badges.pdf").write_bytes(pdf)
    run.state["badges"] = secrets
    return f"{len(secrets)} badges for the drawn stations, {len(pdf)} bytes"


def _clients(run: Rehearsal) -> dict:
    """One logged-in workstation per drawn station, through the real API."""
    if "clients" not in run.state:
        app = create_app(run.path)
        clients = {}
        for badge in run.state["badges"]:
            client = app.test_client()
            response = client.post("/api/v1/station/login", json={"token": badge.qr_token},
                                   environ_base={"REMOTE_ADDR": "127.0.0.1"})
            if response.status_code != 200:
                raise RuntimeError(f"{badge.station}: badge login answered "
                                   f"{response.status_code}")
            clients[badge.station] = client
        run.state.update(app=app, clients=clients)
    return run.state["clients"]


def _phase(name: str, verb: str) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        with _instance(run).session() as session:
            if verb == "start":
                phases.start(session, name, 20, actor=ACTOR, now=clock.now())
            else:
                phases.end(session, name, actor=ACTOR, now=clock.now())
        return f"{name} {verb}ed"
    return action


def _theory(run: Rehearsal) -> str:
    chooser = random.Random(7)
    answered = 0
    for code, client in _clients(run).items():
        paper = client.get("/api/v1/exam/paper")
        if paper.status_code != 200:
            raise RuntimeError(f"{code}: paper answered {paper.status_code}")
        for seq, question in enumerate(paper.get_json()["questions"], start=1):
            choice = chooser.choice(question["options"])["key"]
            saved = client.put(f"/api/v1/exam/answers/{question['id']}",
                               json={"choice": choice, "seq": seq})
            if saved.status_code != 200:
                raise RuntimeError(f"{code}: answer answered {saved.status_code}")
            answered += 1
        if client.post("/api/v1/exam/submit").status_code != 200:
            raise RuntimeError(f"{code}: submit refused")
    return f"{len(run.state['clients'])} stations answered {answered} questions and submitted"


def _grade(run: Rehearsal) -> str:
    with _instance(run).session() as session:
        scores = grade_all(session, now=clock.now())
    best = max((s.score for s in scores), default=0)
    return f"{len(scores)} papers graded, best {best}"


def _hand_in(run: Rehearsal) -> str:
    key = load_verify_key(_instance(run).keys_dir)
    for code, client in _clients(run).items():
        body = f"PK rehearsal work of {code}".encode() * 512
        response = client.post("/api/v1/collect/upload?filename=作品.zip", data=body,
                               headers={"Content-Type": "application/octet-stream"})
        if response.status_code != 201:
            raise RuntimeError(f"{code}: upload answered {response.status_code}")
        receipt = verify_receipt(response.get_json()["receipt_payload"], key)
        if receipt.station != code:
            raise RuntimeError(f"{code}: the receipt names {receipt.station}")
    return f"{len(run.state['clients'])} uploads, every receipt verified"


def _export(run: Rehearsal) -> str:
    out = run.path / "rehearsal-export"
    result = export_bundle(_instance(run), out, actor=ACTOR)
    problems = verify_bundle(out)
    if problems:
        raise RuntimeError("; ".join(problems))
    return f"{result['hand_ins']} archives exported and verified"


def _scores(run: Rehearsal) -> str:
    instance = _instance(run)
    codes = [b.station for b in run.state["badges"]]
    sheet = "赛位号,分数\n" + "".join(f"{code},{50 + (i * 7) % 35}.5\n"
                                    for i, code in enumerate(codes))
    weight = Decimal(str(instance.settings.theory_weight))
    with instance.session() as session:
        for entry in (1, 2):
            mark_entry.import_marks(session, sheet.encode(), f"marks-{entry}.csv", entry=entry,
                                    full_marks=Decimal(instance.settings.practical_full_marks),
                                    actor=ACTOR, now=clock.now())
        sample = review.draw_sample(session, theory_weight=weight, actor=ACTOR,
                                    now=clock.now())
        for _, code in review.items(session):
            review.record_outcome(session, code, correct=True, actor=ACTOR, now=clock.now())
        lock = submission.lock(session, theory_weight=weight, actor=ACTOR, now=clock.now())
    return (f"two entries agree; review of {sample.top_count} + {sample.random_count} "
            f"stations; locked {lock.sha256[:12]}…")


def _unseal(run: Rehearsal) -> str:
    instance = _instance(run)
    with instance.session() as session:
        supervisor = staff.cosign(session, "supervisor", run.state["password"]["supervisor"],
                                  role="supervisor", address="rehearsal",
                                  device=staff.CONSOLE_DEVICE, now=clock.now(),
                                  limit_per_minute=5)
        for stage in (2, 1):
            keys = read_identity_file(Path(run.state["keys"][f"crypt{stage}"]))
            row = unsealing.open_layer(session, stage, keys, actor=ACTOR,
                                       supervisor=supervisor.username, now=clock.now())
            if not row.verified:
                raise RuntimeError(f"stage {stage} did not verify: {row.problems}")
        linked = len(unsealing.links(session))
    return f"stage 2 then 1 opened and verified; {linked} stations linked to people"


def _results(run: Rehearsal) -> str:
    instance = _instance(run)
    settings = instance.settings
    with instance.session() as session:
        result = final.final_results(session)
        pdf = final.results_pdf(result, event_name=settings.event_name,
                                session_name=settings.session_name, now=clock.now(),
                                theory_weight=Decimal(str(settings.theory_weight)),
                                practical_full=Decimal(settings.practical_full_marks),
                                checkpoint=checkpoint_for_print(instance),
                                font_config=settings.pdf_font)
    (run.path / "rehearsal-results.pdf").write_bytes(pdf)
    groups = ", ".join(f"{group} {len(rows)}" for group, rows in result.groups)
    return f"成绩汇总表 {len(pdf)} bytes: {groups}"


def _audit(run: Rehearsal) -> str:
    with _instance(run).session() as session:
        report = audit.verify_chain(session)
    if not report.ok:
        raise RuntimeError(f"audit chain broken at event {report.first_broken}: {report.reason}")
    return f"{report.events} events, chain intact"


def _backup(run: Rehearsal) -> str:
    made = make_backup(_instance(run), run.path / "backups" / "rehearsal.tar")
    restored = restore_backup(Path(made["out"]), run.path.parent / (run.path.name + "-restored"),
                              sqlite=True)
    if restored["problems"]:
        raise RuntimeError("; ".join(restored["problems"]))
    return f"backup {made['size']} bytes restored and checked ({restored['hand_ins']} hand-ins)"


_STEPS: list[tuple[str, Callable[[Rehearsal], str]]] = [
    ("demo instance", _build),
    ("check-in", _check_in),
    ("first draw, record sheet, seal", _draw(1)),
    ("second draw, record sheet, seal", _draw(2)),
    ("station badges", _badges),
    ("theory exam starts", _phase("theory", "start")),
    ("stations take the theory exam", _theory),
    ("theory exam ends", _phase("theory", "end")),
    ("grading", _grade),
    ("practical exam starts", _phase("practical", "start")),
    ("hand-in with receipts", _hand_in),
    ("practical exam ends", _phase("practical", "end")),
    ("sealed export of the hand-ins", _export),
    ("scoring, review, lock", _scores),
    ("unsealing", _unseal),
    ("results sheet", _results),
    ("audit log", _audit),
    ("backup and restore", _backup),
]
