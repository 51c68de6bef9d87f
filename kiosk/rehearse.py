"""`kiosk rehearse`: the whole exam day, played on a fresh demo instance in a few minutes.

Organisers run it the evening before on the server itself (it proves the installation: fonts,
keys, database, encryption, PDFs), and CI runs it. Staff steps go through the same services as
the pages; the simulated stations go through the real HTTP API (badge login, paper, answers,
submit, upload, receipt), in-process. Each step prints its outcome and its time; the first
failure stops the rehearsal with the reason.

With a timetable (`kiosk rehearse --timetable FILE`, e.g. seed/timetables/*.toml) the day is
that timetable's: it is set on the demo instance, then each part is played in order, started
for a few minutes as the default day is: the stations answer and submit a theory part, hand one
file in to each practical part with its own hand-in, and a hand-in to a part already ended is
refused while the next part runs (a module's end closes its own hand-in only). Without one, the
default day (theory, then practical) is played, step for step as before timetables existed.

With sessions (`kiosk rehearse --sessions 2`) the day is an event of that many sessions (场次),
one group each on the same stations: the session draw of the leaders' meeting and its record,
then each session's own check-in, draws, seals, badges, theory and practical parts and export
(a badge of the session before refused at the same seat), then one scoring with marks by
session and station, the review sample and the lock over the whole event, unsealing session by
session, and one ranking per group.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, clock, scope, staff
from kiosk.app import create_app
from kiosk.backup import make_backup, restore_backup
from kiosk.checkin import draw_stages, session_draw
from kiosk.checkin.badges import render_badges
from kiosk.checkin.models import Contestant
from kiosk.checkin.records import record_sheet, session_draw_sheet
from kiosk.checkin.roster import check_in
from kiosk.checkpoints import checkpoint_for_print
from kiosk.collect.export import export_bundle, verify_bundle
from kiosk.collect.hand_ins import verify_receipt
from kiosk.collect.models import HandIn
from kiosk.crypto import load_verify_key, read_identity_file
from kiosk.demo import build_demo
from kiosk.field.control import start_phase
from kiosk.results import final, mark_entry, review, submission, unsealing
from kiosk.stations import exam_sessions, phases, timetable
from kiosk.stations.models import Station
from kiosk.stations.sign_in import issue_badges
from kiosk.theory_exam.exam import grade_all

ACTOR = audit.Actor("rehearsal", "cli")
# Every part runs this long in a rehearsal (then it is ended): long enough for the slowest
# machine's steps, and the day's own lengths are not what a rehearsal proves.
REHEARSAL_MINUTES = 20


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
            problems = getattr(exc, "problems", None) or ()
            if problems:  # a NotReady or ImportErrors says what is missing in its problems
                detail += " " + "; ".join(p.render() if hasattr(p, "render") else str(p)
                                          for p in problems)
        result = Step(name, ok, round(time.perf_counter() - started, 3), detail)
        self.steps.append(result)
        self.report(result)
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)


def rehearse(path: Path, *, stations: int = 12, timetable_file: Path | None = None,
             sessions: int = 1,
             report: Callable[[Step], None] = lambda step: None) -> Rehearsal:
    """Play the day on a new demo instance at `path`: the default day, `timetable_file`'s, or
    (`sessions` > 1) a day of that many sessions, one group each."""
    run = Rehearsal(path, stations, report)
    if sessions > 1:
        steps = _sessions_steps(run, sessions)
    elif timetable_file is not None:
        steps = _timetable_steps(run, timetable_file)
    else:
        steps = _STEPS
    try:
        for name, action in steps:
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

def _suffix(run: Rehearsal) -> str:
    """The session's code in a file's name (`rehearsal-badges-AM.pdf`), none without sessions."""
    code = run.state.get("exam_session")
    return f"-{code}" if code else ""


def _session_name(run: Rehearsal) -> str:
    """The name records and badges print: the session played, else config's session_name."""
    with _db(run) as session:
        return str(exam_sessions.label(exam_sessions.chosen(session), _instance(run).settings))


def _session_badges(run: Rehearsal) -> list:
    return run.state["badges"][run.state.get("exam_session", "")]


def _instance(run: Rehearsal):
    return run.state["instance"]


@contextmanager
def _db(run: Rehearsal) -> Iterator[Session]:
    """A database session on the rehearsal's instance, about the session (场次) being played
    (`run.state["exam_session"]`, a code), or the whole event when none is."""
    with _instance(run).session() as session:
        code = run.state.get("exam_session")
        if code:
            exam_sessions.enter(session, exam_sessions.by_code(session, code))
        yield session


def _build(run: Rehearsal) -> str:
    instance, info = build_demo(run.path)
    run.state.update(instance=instance, info=info,
                     password={u["role"]: u["password"] for u in info["users"]},
                     keys={k["role"]: k["identity_file"] for k in info["judge_keys"]})
    return f"{run.path}: {len(info['users'])} staff accounts, {len(info['stations'])} stations"


def _check_in(run: Rehearsal) -> str:
    with _db(run) as session:
        people = list(session.scalars(select(Contestant).order_by(Contestant.id)))
        # The demo roster is larger than the rehearsal: the rest are recorded absent.
        for person in people[:run.stations]:
            check_in(session, person.id, staff_id=None, actor=ACTOR, now=clock.now())
    return f"{run.stations} of {len(people)} checked in"


def _draw(stage: int) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        instance = _instance(run)
        name = instance.settings.event_name
        with _db(run) as session:
            committed = draw_stages.commit(session, stage, actor=ACTOR, now=clock.now())
            draw_stages.draw(session, stage, "3 1 4 1 5 9", commitment=committed.commitment,
                             actor=ACTOR, now=clock.now())
            draw_stages.prepare_seal(session, stage, event_name=name, actor=ACTOR, now=clock.now())
            mapping = draw_stages.plaintext_mapping(session, stage)
            sheet = record_sheet(mapping, kind=stage, event_name=name,
                                 session_name=_session_name(run),
                                 checkpoint=checkpoint_for_print(instance),
                                 font_config=instance.settings.pdf_font)
            (run.path / f"rehearsal-record-{stage}{_suffix(run)}.pdf").write_bytes(sheet)
            sealed = draw_stages.seal(session, stage, event_name=name, actor=ACTOR, now=clock.now())
            draw_stages.export_sealed(session, stage, instance.sealed_dir)
        return (f"{len(mapping.pairs)} drawn, commitment {committed.commitment[:12]}…, sealed "
                f"{sealed.ciphertext_sha256[:12]}…, record sheet {len(sheet)} bytes")
    return action


def _badges(run: Rehearsal) -> str:
    instance = _instance(run)
    with _db(run) as session:
        taken = list(session.scalars(select(Station).where(Station.occupied)
                                     .order_by(Station.code)))
        secrets = issue_badges(session, taken, badge_key=instance.badge_key(), actor=ACTOR,
                               now=clock.now())
    pdf = render_badges(secrets, event_name=instance.settings.event_name,
                        session_name=_session_name(run),
                        font_config=instance.settings.pdf_font)
    (run.path / f"rehearsal-badges{_suffix(run)}.pdf").write_bytes(pdf)
    run.state.setdefault("badges", {})[run.state.get("exam_session", "")] = secrets
    return f"{len(secrets)} badges for the drawn stations, {len(pdf)} bytes"


def _clients(run: Rehearsal) -> dict:
    """One logged-in workstation per drawn station, through the real API."""
    code = run.state.get("exam_session", "")
    if code not in run.state.setdefault("clients", {}):
        app = run.state.get("app") or create_app(run.path)
        clients = {}
        for badge in _session_badges(run):
            client = app.test_client()
            response = client.post("/api/v1/station/login", json={"token": badge.qr_token},
                                   environ_base={"REMOTE_ADDR": "127.0.0.1"})
            if response.status_code != 200:
                raise RuntimeError(f"{badge.station}: badge login answered "
                                   f"{response.status_code}")
            clients[badge.station] = client
        run.state["app"] = app
        run.state["clients"][code] = clients
    return run.state["clients"][code]


def _phase(name: str, verb: str) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        with _db(run) as session:
            if verb == "start":  # as 考试控制 starts it: a session's missing papers first
                start_phase(session, name, 20, actor=ACTOR, now=clock.now())
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
    return f"{len(_clients(run))} stations answered {answered} questions and submitted"


def _grade(run: Rehearsal) -> str:
    with _db(run) as session:
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
    return f"{len(_clients(run))} uploads, every receipt verified"


def _export(run: Rehearsal) -> str:
    out = run.path / f"rehearsal-export{_suffix(run)}"
    with _db(run) as session:
        about = scope.current(session)
    result = export_bundle(_instance(run), out, actor=ACTOR, exam_session=about)
    problems = verify_bundle(out)
    if problems:
        raise RuntimeError("; ".join(problems))
    return f"{result['hand_ins']} archives exported and verified"


def _theory_weight(run: Rehearsal) -> Decimal:
    """config.toml's theory weight; none for a timetable without a theory exam (seed 000's
    day is three modules), whose total is the practical mark alone (the results that follow
    the timetable ignore the weight on such a day themselves; 0 says the same before them)."""
    day = run.state.get("parts")
    if day is not None and not any(p.kind == "theory" for p in day):
        return Decimal(0)
    return Decimal(str(_instance(run).settings.theory_weight))


def _scores(run: Rehearsal) -> str:
    codes = [b.station for b in _session_badges(run)]
    sheet = "赛位号,分数\n" + "".join(f"{code},{_mark(i)}\n" for i, code in enumerate(codes))
    entered = _enter_review_lock(run, sheet, _theory_weight(run))
    return f"two entries agree; {entered}"


def _mark(index: int) -> str:
    return f"{50 + (index * 7) % 35}.5"


def _enter_review_lock(run: Rehearsal, sheet: str, weight: Decimal) -> str:
    """Two scorekeepers enter `sheet`; the review sample is drawn and confirmed; the lock."""
    instance = _instance(run)
    with _db(run) as session:
        for entry in (1, 2):
            mark_entry.import_marks(session, sheet.encode(), f"marks-{entry}.csv", entry=entry,
                                    full_marks=Decimal(instance.settings.practical_full_marks),
                                    actor=ACTOR, now=clock.now())
        sample = review.draw_sample(session, theory_weight=weight, actor=ACTOR,
                                    now=clock.now())
        for _, seat in review.items(session):  # "AM/A01" once there are sessions
            review.record_outcome(session, seat, correct=True, actor=ACTOR, now=clock.now())
        lock = submission.lock(session, theory_weight=weight, actor=ACTOR, now=clock.now())
    return (f"review of {sample.top_count} + {sample.random_count} stations; locked "
            f"{lock.sha256[:12]}…")


def _unseal(run: Rehearsal) -> str:
    with _db(run) as session:
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
    with _db(run) as session:
        result = final.final_results(session)
        pdf = final.results_pdf(result, event_name=settings.event_name,
                                session_name=settings.session_name, now=clock.now(),
                                theory_weight=_theory_weight(run),
                                practical_full=Decimal(settings.practical_full_marks),
                                checkpoint=checkpoint_for_print(instance),
                                font_config=settings.pdf_font)
    (run.path / "rehearsal-results.pdf").write_bytes(pdf)
    groups = ", ".join(f"{group} {len(rows)}" for group, rows in result.groups)
    return f"成绩汇总表 {len(pdf)} bytes: {groups}"


def _audit(run: Rehearsal) -> str:
    with _db(run) as session:
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


# ----------------------------------------------------------------------------- a timetable's day

def _set_timetable(path: Path) -> Callable[[Rehearsal], str]:
    """The timetable set as `kiosk timetable set` sets it: read, checked, then stored."""
    def action(run: Rehearsal) -> str:
        instance = _instance(run)
        new_parts = timetable.read(path, instance.settings)
        with _db(run) as session:
            timetable.replace(session, new_parts, actor=ACTOR, now=clock.now())
            stored = timetable.parts(session, instance.settings)
        run.state["parts"] = stored
        return f"{path.name}: " + "; ".join(
            f"{p.key} {p.name} {p.minutes:g} min" for p in stored)
    return action


def _label(part: timetable.Part) -> str:
    return f"{part.name} ({part.key})"


def _start_part(part: timetable.Part) -> Callable[[Rehearsal], str]:
    """Start the part now; the workstations' clock must then name it, with its own warnings."""
    def action(run: Rehearsal) -> str:
        with _db(run) as session:
            row = phases.start(session, part.key, REHEARSAL_MINUTES, actor=ACTOR,
                               now=clock.now())
            ends = clock.local_display(row.ends_at, "%H:%M:%S")
        for code, client in _clients(run).items():
            shown = client.get("/api/v1/clock").get_json()
            named = (shown.get("part") or {}).get("key")
            if shown["phase"] != part.key or named != part.key:
                raise RuntimeError(f"{code}: the clock shows {shown['phase']}/{named}, "
                                   f"not {part.key}")
            if shown["warnings_at_minutes"] != list(part.warnings):
                raise RuntimeError(f"{code}: the clock warns at {shown['warnings_at_minutes']}"
                                   f", the part at {list(part.warnings)}")
        return (f"running for {REHEARSAL_MINUTES} min (the timetable's {part.minutes:g}), "
                f"until {ends}; every station's clock names {part.key}")
    return action


def _end_part(part: timetable.Part) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        with _db(run) as session:
            phases.end(session, part.key, actor=ACTOR, now=clock.now())
            state = timetable.day(session, _instance(run).settings, clock.now()).of(part.key)
        if state is None or state.state != "ended":
            raise RuntimeError(f"{part.key} is {state.state if state else 'gone'} after its end")
        return f"{part.key} ended"
    return action


def _upload(client, part_key: str, filename: str, body: bytes):
    """One hand-in through the interface: the file as the raw body, the part in the query."""
    return client.post("/api/v1/collect/upload", query_string={"filename": filename,
                                                                "part": part_key},
                       data=body, headers={"Content-Type": "application/octet-stream"})


def _refusal_text(response) -> str:
    answer = response.get_json(silent=True) or {}
    return f"{response.status_code} {answer.get('message', '')}".strip()


def _hand_in_part(part: timetable.Part) -> Callable[[Rehearsal], str]:
    """Every station hands one file in to this part; each is filed under it, receipt verified."""
    def action(run: Rehearsal) -> str:
        instance = _instance(run)
        key = load_verify_key(instance.keys_dir)
        filed = {}
        for code, client in _clients(run).items():
            body = f"PK rehearsal work of {code} for {part.key}".encode() * 512
            response = _upload(client, part.key, f"作品-{part.key}.zip", body)
            if response.status_code != 201:
                raise RuntimeError(f"{code}: upload to {part.key} answered "
                                   f"{_refusal_text(response)}")
            answer = response.get_json()
            receipt = verify_receipt(answer["receipt_payload"], key)
            if receipt.station != code:
                raise RuntimeError(f"{code}: the receipt names {receipt.station}")
            if answer.get("part", part.key) != part.key:
                raise RuntimeError(f"{code}: the receipt names part {answer['part']}, "
                                   f"not {part.key}")
            filed[answer["receipt_no"]] = code
        with _db(run) as session:
            parts_filed = dict(session.execute(select(HandIn.receipt_no, HandIn.part).where(
                HandIn.receipt_no.in_(list(filed)))).all())
        wrong = sorted(f"{filed[no]}→{found}" for no, found in parts_filed.items()
                       if found != part.key)
        if wrong or len(parts_filed) != len(filed):
            raise RuntimeError(f"hand-ins not filed under {part.key}: {', '.join(wrong)}")
        return f"{len(filed)} uploads filed under {part.key}, every receipt verified"
    return action


def _late_hand_in_refused(ended: timetable.Part,
                          running: timetable.Part | None) -> Callable[[Rehearsal], str]:
    """A hand-in to a part that has ended is refused (423), while the next part, if any, runs:
    one part's end locks that part's hand-in only (the next one's is then played)."""
    def action(run: Rehearsal) -> str:
        instance = _instance(run)
        with _db(run) as session:
            ended_at = phases.get_phase(session, ended.key).ended_at
        # Requests in flight at the end are still taken for a few seconds (grace_seconds):
        # the late one is sent after them.
        grace = timedelta(seconds=instance.settings.grace_seconds)
        wait = (ended_at + grace - clock.now()).total_seconds() + 0.05
        if wait > 0:
            time.sleep(wait)
        code, client = next(iter(_clients(run).items()))
        response = _upload(client, ended.key, f"迟交-{ended.key}.zip", b"PK late work" * 64)
        if response.status_code != 423:
            raise RuntimeError(f"{code}: a hand-in to the ended {ended.key} answered "
                               f"{_refusal_text(response)}, not 423")
        during = f" while {running.key} runs" if running is not None else ""
        return f"{code}: a hand-in to {ended.key}{during} refused ({_refusal_text(response)})"
    return action


def _timetable_steps(run: Rehearsal, path: Path) -> Iterator[tuple[str, Callable]]:
    """The day of a timetable, step by step. A generator: the parts' steps are known once the
    timetable step has read the file (and a failing step stops it before that)."""
    yield "demo instance", _build
    yield "timetable", _set_timetable(path)
    yield "check-in", _check_in
    yield "first draw, record sheet, seal", _draw(1)
    yield "second draw, record sheet, seal", _draw(2)
    yield "station badges", _badges
    day: list[timetable.Part] = run.state["parts"]
    previous: timetable.Part | None = None
    for part in day:
        yield f"{_label(part)} starts", _start_part(part)
        if previous is not None and previous.hand_in:
            yield (f"{_label(previous)}: late hand-in refused",
                   _late_hand_in_refused(previous, part))
        if part.kind == "theory":
            yield f"stations take {_label(part)}", _theory
        elif part.hand_in:
            yield f"{_label(part)}: hand-in with receipts", _hand_in_part(part)
        yield f"{_label(part)} ends", _end_part(part)
        if part.kind == "theory":
            yield "grading", _grade
        previous = part
    if previous is not None and previous.hand_in:
        yield f"{_label(previous)}: late hand-in refused", _late_hand_in_refused(previous, None)
    if any(p.hand_in for p in day):
        yield "sealed export of the hand-ins", _export
    yield "scoring, review, lock", _scores
    yield "unsealing", _unseal
    yield "results sheet", _results
    yield "audit log", _audit
    yield "backup and restore", _backup


# ----------------------------------------------------------------------------- sessions

def _define_sessions(count: int) -> Callable[[Rehearsal], str]:
    """As many sessions as asked, one group each (the demo's 职工组 in the morning, 学生组 in
    the afternoon), defined as `kiosk sessions add` defines them."""
    def action(run: Rehearsal) -> str:
        instance = _instance(run)
        groups = instance.settings.groups
        if count > len(groups):
            raise RuntimeError(f"{count} sessions of one group each, but the event has "
                               f"{len(groups)} groups")
        with _db(run) as session:
            for number, group in enumerate(groups[:count], start=1):
                code, name = SESSION_PLAN[number - 1] if number <= len(SESSION_PLAN) else \
                    (f"S{number}", f"第{number}场")
                exam_sessions.add(session, code, name=name, groups=[group], capacity=None,
                                  settings=instance.settings, actor=ACTOR, now=clock.now())
            listed = exam_sessions.defined(session)
        run.state["sessions"] = [s.code for s in listed]
        return "; ".join(f"{s.code} {s.name} ({', '.join(s.groups)})" for s in listed)
    return action


SESSION_PLAN = [("AM", "上午场"), ("PM", "下午场"), ("EVE", "晚场")]


def _session_draw(run: Rehearsal) -> str:
    """The session draw at the leaders' meeting: commitment, the meeting's entropy, the
    announced result and its 场次抽签记录表; every contestant in a session of their group."""
    instance = _instance(run)
    with _db(run) as session:
        committed = session_draw.commit(session, actor=ACTOR, now=clock.now())
        session_draw.draw(session, "2 7 1 8 2 8", commitment=committed.commitment,
                          actor=ACTOR, now=clock.now())
        result = session_draw.show_result(session, actor=ACTOR, now=clock.now())
        sheet = session_draw_sheet(result, event_name=instance.settings.event_name,
                                   checkpoint=checkpoint_for_print(instance),
                                   font_config=instance.settings.pdf_font)
        by_code = {s.code: s for s in exam_sessions.defined(session)}
        misplaced = [p.contestant.id_number for p in result.placements
                     if not exam_sessions.admits(by_code[p.session_code], p.contestant.group)]
    if misplaced:
        raise RuntimeError(f"placed in a session not of their group: {', '.join(misplaced)}")
    (run.path / "rehearsal-session-draw.pdf").write_bytes(sheet)
    counts = ", ".join(f"{code} {n}" for code, n in result.counts().items())
    return (f"commitment {committed.commitment[:12]}…; {counts}; 场次抽签记录表 "
            f"{len(sheet)} bytes")


def _enter_session(code: str | None) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        run.state["exam_session"] = code
        if code is None:
            return "the whole event"
        with _db(run) as session:
            serving = exam_sessions.current(session, _instance(run).settings, clock.now())
        if serving.code != code:
            raise RuntimeError(f"the hall serves {serving.code}, not {code}")
        return f"the hall's stations serve {code}; the steps act on {code}"
    return action


def _other_sessions_badge_refused(run: Rehearsal) -> str:
    """A badge of the session before signs in nowhere now: same seat, other session."""
    played = run.state["sessions"]
    code = run.state["exam_session"]
    before = played[played.index(code) - 1]
    badge = run.state["badges"][before][0]
    response = run.state["app"].test_client().post(
        "/api/v1/station/login", json={"token": badge.qr_token},
        environ_base={"REMOTE_ADDR": "127.0.0.1"})
    answer = response.get_json(silent=True) or {}
    if response.status_code != 403 or answer.get("error") != "wrong_session":
        raise RuntimeError(f"{before}'s badge for {badge.station} answered "
                           f"{_refusal_text(response)}, not 403 wrong_session")
    return f"{before}'s badge for {badge.station} refused: {answer.get('message', '')}"


def _scores_by_session(run: Rehearsal) -> str:
    """Marks by session and station (`场次, 赛位号, 分数`), twice; the review sample over the
    whole event; one lock."""
    lines = [f"{code},{badge.station},{_mark(i)}\n" for code in run.state["sessions"]
             for i, badge in enumerate(run.state["badges"][code])]
    weight = Decimal(str(_instance(run).settings.theory_weight))
    entered = _enter_review_lock(run, "场次,赛位号,分数\n" + "".join(lines), weight)
    return (f"{len(lines)} stations of {len(run.state['sessions'])} sessions, two entries "
            f"agree; {entered} over the event")


def _one_ranking_per_group(run: Rehearsal) -> str:
    with _db(run) as session:
        result = final.final_results(session)
    found = []
    for group, rows in result.groups:
        sessions = sorted({row.session for row in rows})
        found.append(f"{group} {len(rows)} ({', '.join(sessions)})")
    if len(result.groups) != len(run.state["sessions"]):
        raise RuntimeError(f"{len(result.groups)} rankings for "
                           f"{len(run.state['sessions'])} groups")
    return "one ranking per group: " + "; ".join(found)


def _sessions_steps(run: Rehearsal, count: int) -> Iterator[tuple[str, Callable]]:
    """A day of `count` sessions: the leaders' meeting's session draw, then each session's
    day on the same stations, then one scoring, review and lock, unsealing session by session,
    and one ranking per group."""
    yield "demo instance", _build
    yield "sessions", _define_sessions(count)
    yield "session draw at the leaders' meeting", _session_draw
    for code in run.state["sessions"]:
        yield f"{code}: the hall serves it", _enter_session(code)
        yield f"{code}: check-in", _check_in
        yield f"{code}: first draw, record sheet, seal", _draw(1)
        yield f"{code}: second draw, record sheet, seal", _draw(2)
        yield f"{code}: station badges", _badges
        if code != run.state["sessions"][0]:
            yield f"{code}: a badge of the session before refused", _other_sessions_badge_refused
        yield f"{code}: theory exam starts", _phase("theory", "start")
        yield f"{code}: stations take the theory exam", _theory
        yield f"{code}: theory exam ends", _phase("theory", "end")
        yield f"{code}: grading", _grade
        yield f"{code}: practical exam starts", _phase("practical", "start")
        yield f"{code}: hand-in with receipts", _hand_in
        yield f"{code}: practical exam ends", _phase("practical", "end")
        yield f"{code}: sealed export of the hand-ins", _export
    yield "the whole event", _enter_session(None)
    yield "scoring by session, review, lock", _scores_by_session
    for code in run.state["sessions"]:
        yield f"{code}: unsealing", _unseal_session(code)
    yield "the whole event again", _enter_session(None)
    yield "one ranking per group", _one_ranking_per_group
    yield "results sheet", _results
    yield "audit log", _audit
    yield "backup and restore", _backup


def _unseal_session(code: str) -> Callable[[Rehearsal], str]:
    def action(run: Rehearsal) -> str:
        run.state["exam_session"] = code
        return f"{code}: " + _unseal(run)
    return action


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
