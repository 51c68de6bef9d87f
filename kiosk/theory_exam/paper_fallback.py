"""The paper fallback (纸质作答): each station's own paper printed ahead, a station switched to it
when the network fails, its answer sheet (答题卡) typed in twice and graded like an online paper.

- **The printed paper is the stored paper.** `printed_paper` reads the station's `Paper` row, the
  very questions, order and options the kiosk is served (`papers.build_paper` computed them once
  from the station's seed): nothing here orders anything. Options are lettered A, B, C … in the
  order the station sees them; true/false questions print 对 (√) / 错 (×).
- **Sealed by its hash.** `PrintedPaper.sha256` hashes exactly what is printed (station, session,
  and each question's number, stem, points and lettered options) as canonical JSON; every page
  carries the station number and this hash, and `kiosk paper hashes` recomputes it from the
  server's paper for a dispute.
- **Switched to paper** (`switch_to_paper`, the chief judge, with a reason): from then on the
  station's online saves and hand-in are refused (409 `on_paper`, in `exam._save`). The answers
  it saved online before are kept and shown beside the sheet; the sheet alone is graded.
- **Typed twice** (`enter_sheet`): two judges each type the whole sheet as printed (entry 1 and
  entry 2; whoever typed one may not type the other, as for the practical marks). Every question
  where they differ is listed (`differences`) until the chief judge decides it with a reason
  (`resolve`). Nothing is averaged or merged.
- **Graded with the same code.** `sheet_answers` turns an agreed sheet into the letters of the
  bank's key (printed letter → the station's option → its original letter), which
  `exam._graded` grades with the same grading key as the online answers. A sheet not yet agreed
  is not graded: its station's result waits (`pending_station_ids`).
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kiosk import audit, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, Conflict, ImportErrors, KioskError, NotFound, Problem
from kiosk.models import ExamSession
from kiosk.stations import exam_sessions
from kiosk.stations.models import Station
from kiosk.theory_exam.models import (
    CurrentAnswer,
    Paper,
    PaperStation,
    SheetEntry,
    SheetResolution,
    Sitting,
)
from kiosk.theory_exam.papers import points_text

LETTERS = "ABCDEFGH"
TF_PRINTED = {"T": "对 √", "F": "错 ×"}
TF_SHOWN = {"T": "对", "F": "错"}  # a stored true/false answer as people read it
# What a judge may type for a true/false answer, folded (NFKC, upper case) first.
TF_TYPED = {"T": "T", "对": "T", "√": "T", "✓": "T", "Y": "T",
            "F": "F", "错": "F", "×": "F", "X": "F", "✗": "F", "N": "F"}


class OnPaper(Conflict):
    """The station answers on its printed paper: nothing is saved online any more."""

    code = "on_paper"


ON_PAPER = N_("This station has been switched to its paper answer sheet: answer on the sheet; "
              "nothing is saved on the screen any more.")


# ----------------------------------------------------------------------------- the printed paper

@dataclass(frozen=True)
class PrintedQuestion:
    number: int  # as printed, from 1
    qid: str  # not printed: how a sheet's answer finds its question
    type: str  # single / tf
    stem: str
    points: str
    options: tuple[tuple[str, str], ...]  # (printed letter, text); tf: (T, 对), (F, 错)
    option_keys: tuple[str, ...] = field(default=(), compare=False)  # the kiosk's keys, in order


@dataclass(frozen=True)
class PrintedPaper:
    station: str
    session: str  # the session's code ("" for the implicit one)
    full_marks: str
    questions: tuple[PrintedQuestion, ...]

    def content(self) -> dict:
        """Exactly what the paper shows, nothing else (no question id, no key)."""
        return {"station": self.station, "session": self.session,
                "full_marks": self.full_marks,
                "questions": [{"number": q.number, "type": q.type, "stem": q.stem,
                               "points": q.points, "options": [list(o) for o in q.options]}
                              for q in self.questions]}

    @property
    def sha256(self) -> str:
        text = json.dumps(self.content(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def printed_paper(paper: Paper, station_code: str, session_code: str = "") -> PrintedPaper:
    """The station's stored paper as printed: its questions in its order, its options in its
    order lettered A, B, C …. Pure."""
    questions = []
    for number, question in enumerate(paper.questions, start=1):
        keys = tuple(option["key"] for option in question["options"])
        if question["type"] == "tf":
            letters = [paper.key_map[question["id"]]["keys"][key] for key in keys]
            options = tuple((letter, option["text"]) for letter, option
                            in zip(letters, question["options"], strict=True))
        else:
            options = tuple((LETTERS[i], option["text"])
                            for i, option in enumerate(question["options"]))
        questions.append(PrintedQuestion(number, question["id"], question["type"],
                                         question["stem"], str(question.get("points", "")),
                                         options, keys))
    return PrintedPaper(station_code, session_code, points_text(paper.full_marks),
                        tuple(questions))


def printed_papers(session: Session, station_codes: list[str] | None = None
                   ) -> list[PrintedPaper]:
    """The papers of the stations in view (kiosk.scope), by session and station code; only
    `station_codes` if given (each must exist)."""
    rows = session.execute(
        select(Paper, Station.code, ExamSession.code)
        .join(Station, Station.id == Paper.station_id)
        .join(ExamSession, ExamSession.id == Station.exam_session_id)
        .order_by(ExamSession.position, Station.code)).all()
    if station_codes is not None:
        wanted = {code.strip().upper() for code in station_codes if code.strip()}
        missing = wanted - {code for _paper, code, _session in rows}
        if missing:
            raise NotFound(N_("No paper for %(station)s."), station=", ".join(sorted(missing)))
        rows = [row for row in rows if row[1] in wanted]
    if not rows:
        raise Conflict(N_("No paper is built yet: set the paper spec first."))
    return [printed_paper(paper, code, session_code) for paper, code, session_code in rows]


def record_printing(session: Session, papers: list[PrintedPaper], pdf_sha256: str, *,
                    actor: audit.Actor, now: datetime) -> None:
    """The audit event of a printing: which stations, each paper's hash, the file's hash."""
    with write_transaction(session):
        audit.record(session, actor, "paper.printed", at=now, details={
            "papers": len(papers), "stations": ", ".join(p.station for p in papers[:60])
            + (" …" if len(papers) > 60 else ""),
            "sha256": pdf_sha256,
            "paper_sha256": {p.station: p.sha256[:16] for p in papers[:60]}})


# ----------------------------------------------------------------------------- switching

def _station(session: Session, code: str) -> Station:
    """The station `code` of the session in view (the only one when unscoped)."""
    exam_session = exam_sessions.chosen(session)
    with scope.within(session, exam_sessions.as_scope(exam_session)):
        station = session.scalar(select(Station).where(Station.code == code.strip().upper()))
    if station is None:
        raise NotFound(N_("unknown station %(station)s"), station=code)
    return station


def switch_to_paper(session: Session, station_code: str, reason: str, *, actor: audit.Actor,
                    now: datetime) -> PaperStation:
    """The chief judge's switch of a station to its printed paper. Final: its online saves
    are refused from now on; what it saved online is kept."""
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("Switching a station to paper needs a reason."))
    with write_transaction(session):
        station = _station(session, station_code)
        if session.get(Paper, station.id) is None:
            raise Conflict(N_("No paper for %(station)s."), station=station.code)
        if session.get(PaperStation, station.id) is not None:
            raise Conflict(N_("%(station)s answers on paper already."), station=station.code)
        sitting = session.get(Sitting, station.id)
        if sitting is not None and sitting.submitted_at is not None:
            raise Conflict(N_("%(station)s handed in its paper online; it is graded from its "
                              "online answers."), station=station.code)
        online = session.scalar(select(func.count()).select_from(CurrentAnswer).where(
            CurrentAnswer.station_id == station.id, CurrentAnswer.choice.is_not(None))) or 0
        row = PaperStation(station_id=station.id, reason=reason[:500], online_answers=online,
                           switched_by=actor.name, switched_at=now)
        session.add(row)
        audit.record(session, actor, "paper.switched", at=now, subject=station.code,
                     details={"reason": reason[:500], "answered": online})
    return row


def is_on_paper(session: Session, station_id: int) -> bool:
    return session.get(PaperStation, station_id) is not None


# ----------------------------------------------------------------------------- the two entries

def parse_mark(question: PrintedQuestion, text: str) -> str | None:
    """A sheet's answer as typed: a printed letter of the question (A–D, full-width or lower
    case too), 对/错 (√ ×, T/F) for true/false, "" when left blank; None if it is none of
    these."""
    folded = unicodedata.normalize("NFKC", text or "").strip().upper()
    if not folded:
        return ""
    if question.type == "tf":
        return TF_TYPED.get(folded)
    return folded if folded in {letter for letter, _text in question.options} else None


def _paper_of(session: Session, station: Station) -> PrintedPaper:
    """The station's paper as printed (its session named, as on the print)."""
    paper = session.get(Paper, station.id)
    if paper is None:
        raise Conflict(N_("No paper for %(station)s."), station=station.code)
    with scope.event_wide(session):
        session_code = session.get(ExamSession, station.exam_session_id).code
    return printed_paper(paper, station.code, session_code)


def _require_on_paper(session: Session, station: Station) -> None:
    if session.get(PaperStation, station.id) is None:
        raise Conflict(N_("%(station)s does not answer on paper."), station=station.code)


OTHER_ENTRY = N_("You typed the other entry of this sheet; the second entry must come from "
                 "another judge.")


def typed_the_other(session: Session, station_id: int, entry: int, username: str) -> bool:
    return session.scalar(select(SheetEntry.id).where(
        SheetEntry.station_id == station_id, SheetEntry.entry == 3 - entry,
        SheetEntry.entered_by == username).limit(1)) is not None


def enter_sheet(session: Session, station_code: str, typed: dict[int, str], *, entry: int,
                actor: audit.Actor, now: datetime) -> int:
    """One judge's reading of the whole sheet: {question number: text}, a missing number being
    a blank answer. Every problem is listed and nothing is saved if there is one; saved, it
    replaces this entry of the sheet. Returns the answers read (blanks not counted)."""
    if entry not in (1, 2):
        raise KioskError(N_("The entry is 1 or 2 (the first or the second judge)."))
    station = _station(session, station_code)
    _require_on_paper(session, station)
    paper = _paper_of(session, station)
    problems, marks = [], {}
    for question in paper.questions:
        text = typed.get(question.number, "")
        mark = parse_mark(question, text)
        if mark is None:
            allowed = "对/错" if question.type == "tf" else \
                "/".join(letter for letter, _text in question.options)
            problems.append(Problem(None, N_("question %(number)s: %(text)s is not an answer "
                                             "(%(allowed)s, or blank)"),
                                    {"number": question.number, "text": text.strip(),
                                     "allowed": allowed}))
        marks[question.qid] = mark
    unknown = sorted(set(typed) - {q.number for q in paper.questions})
    if unknown:
        problems.append(Problem(None, N_("the paper has no question %(number)s"),
                                {"number": ", ".join(map(str, unknown))}))
    if problems:
        raise ImportErrors(problems)
    with write_transaction(session):
        if actor.role != "cli" and typed_the_other(session, station.id, entry, actor.name):
            raise Conflict(OTHER_ENTRY)
        session.execute(delete(SheetEntry).where(SheetEntry.station_id == station.id,
                                                 SheetEntry.entry == entry))
        session.add_all(SheetEntry(station_id=station.id, question_id=int(qid), entry=entry,
                                   mark=mark, entered_by=actor.name, entered_at=now)
                        for qid, mark in marks.items())
        session.flush()
        answered = sum(1 for mark in marks.values() if mark)
        audit.record(session, actor, "paper.sheet_entered", at=now, subject=station.code,
                     details={"entry": entry, "answered": answered})
        _record_if_agreed(session, station, actor=actor, now=now)
    return answered


@dataclass(frozen=True)
class SheetQuestion:
    """One question of a sheet as the judges compare it: marks as printed ("" blank)."""

    question: PrintedQuestion
    first: str | None  # None: not typed in this entry
    second: str | None
    online: str  # what the station had saved online before the switch ("" none): not graded
    decided: str | None  # the chief judge's reading, if any

    @property
    def differs(self) -> bool:
        return self.decided is None and self.first is not None and self.second is not None \
            and self.first != self.second

    @property
    def agreed(self) -> str | None:
        if self.decided is not None:
            return self.decided
        if self.first is not None and self.first == self.second:
            return self.first
        return None


@dataclass(frozen=True)
class Sheet:
    station: str
    station_id: int
    switch: PaperStation
    questions: list[SheetQuestion]
    entered_by: dict[int, str]  # entry → who typed it
    paper_sha256: str = ""  # the printed paper's hash, to compare with the sheet's paper

    @property
    def differences(self) -> list[SheetQuestion]:
        return [q for q in self.questions if q.differs]

    @property
    def agreed(self) -> bool:
        """Both entries typed and every question agreed or decided: ready to grade."""
        return len(self.entered_by) == 2 and all(q.agreed is not None for q in self.questions)

    @property
    def sha256(self) -> str:
        """The agreed answers as graded, hashed (in the audit event that says so)."""
        text = ",".join(f"{q.question.number}:{q.agreed}" for q in self.questions)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _online_printed(paper: Paper, question: PrintedQuestion, letter: str | None) -> str:
    """A saved online answer (the bank's letter) as the printed paper letters it."""
    if not letter:
        return ""
    if question.type == "tf":
        return letter
    keys = paper.key_map[question.qid]["keys"]
    for printed, key in zip((o[0] for o in question.options), question.option_keys,
                            strict=True):
        if keys.get(key) == letter:
            return printed
    return "?"


def sheet(session: Session, station: Station | str) -> Sheet:
    """A paper station's sheet: both entries, the decisions and the online answers kept."""
    if isinstance(station, str):
        station = _station(session, station)
    switch = session.get(PaperStation, station.id)
    if switch is None:
        raise Conflict(N_("%(station)s does not answer on paper."), station=station.code)
    paper = session.get(Paper, station.id)
    printed = _paper_of(session, station)
    entries: dict[tuple[int, str], str] = {}
    entered_by: dict[int, str] = {}
    for entry, qid, mark, who in session.execute(
            select(SheetEntry.entry, SheetEntry.question_id, SheetEntry.mark,
                   SheetEntry.entered_by).where(SheetEntry.station_id == station.id)):
        entries[(entry, str(qid))] = mark
        entered_by[entry] = who
    decided = {str(qid): mark for qid, mark in session.execute(
        select(SheetResolution.question_id, SheetResolution.mark)
        .where(SheetResolution.station_id == station.id))}
    online = {str(qid): choice for qid, choice in session.execute(
        select(CurrentAnswer.question_id, CurrentAnswer.choice)
        .where(CurrentAnswer.station_id == station.id))}
    questions = [SheetQuestion(q, entries.get((1, q.qid)), entries.get((2, q.qid)),
                               _online_printed(paper, q, online.get(q.qid)),
                               decided.get(q.qid)) for q in printed.questions]
    return Sheet(station.code, station.id, switch, questions, entered_by, printed.sha256)


def resolve(session: Session, station_code: str, number: int, text: str, reason: str, *,
            actor: audit.Actor, now: datetime) -> SheetResolution:
    """The chief judge's reading of question `number` of the sheet, with a reason."""
    reason = reason.strip()
    if not reason:
        raise KioskError(N_("Resolving a difference needs a reason."))
    with write_transaction(session):
        station = _station(session, station_code)
        _require_on_paper(session, station)
        paper = _paper_of(session, station)
        question = next((q for q in paper.questions if q.number == number), None)
        if question is None:
            raise NotFound(N_("the paper has no question %(number)s"), number=number)
        mark = parse_mark(question, text)
        if mark is None:
            raise KioskError(N_("question %(number)s: %(text)s is not an answer "
                                "(%(allowed)s, or blank)"), number=number, text=text,
                             allowed="对/错" if question.type == "tf" else
                             "/".join(letter for letter, _text in question.options))
        row = session.scalar(select(SheetResolution).where(
            SheetResolution.station_id == station.id,
            SheetResolution.question_id == int(question.qid))) or SheetResolution(
                station_id=station.id, question_id=int(question.qid))
        row.mark, row.reason = mark, reason[:500]
        row.resolved_by, row.resolved_at = actor.name, now
        session.add(row)
        session.flush()
        audit.record(session, actor, "paper.sheet_resolved", at=now, subject=station.code,
                     details={"question": number, "mark": mark or "—", "reason": reason[:500]})
        _record_if_agreed(session, station, actor=actor, now=now)
    return row


def _record_if_agreed(session: Session, station: Station, *, actor: audit.Actor,
                      now: datetime) -> None:
    """Once a sheet is agreed, the audit log says that this station is graded from paper."""
    current = sheet(session, station)
    if current.agreed:
        audit.record(session, actor, "paper.sheet_agreed", at=now, subject=station.code,
                     details={"answered": sum(1 for q in current.questions if q.agreed),
                              "sha256": current.sha256})


# ----------------------------------------------------------------------------- for grading

def paper_stations(session: Session) -> list[Sheet]:
    """Every paper station in view, by session and station code, with its sheet."""
    stations = session.scalars(
        select(Station).join(PaperStation, PaperStation.station_id == Station.id)
        .join(ExamSession, ExamSession.id == Station.exam_session_id)
        .order_by(ExamSession.position, Station.code)).all()
    return [sheet(session, station) for station in stations]


def paper_station_ids(session: Session) -> set[int]:
    """The stations in view that answer on paper."""
    return set(session.scalars(select(PaperStation.station_id)
                               .join(Station, Station.id == PaperStation.station_id)))


def sheet_answers(session: Session, station_ids: list[int] | None = None
                  ) -> dict[int, dict[str, str] | None]:
    """station id → its agreed sheet as the bank's letters ({qid: letter}, blanks left out),
    for each paper station among `station_ids` (every one in view if None); None for a sheet
    not agreed yet (not graded)."""
    found: dict[int, dict[str, str] | None] = {}
    ids = paper_station_ids(session)
    if station_ids is not None:
        ids &= set(station_ids)
    if not ids:
        return found
    for station in session.scalars(select(Station).where(Station.id.in_(ids))):
        current = sheet(session, station)
        if not current.agreed:
            found[station.id] = None
            continue
        paper = session.get(Paper, station.id)
        found[station.id] = {q.question.qid: _bank_letter(paper, q.question, q.agreed)
                             for q in current.questions if q.agreed}
    return found


def _bank_letter(paper: Paper, question: PrintedQuestion, printed: str) -> str:
    """A printed answer as the bank's letter: the station's option at that place, its key's
    letter (what the kiosk would have saved for the same click)."""
    if question.type == "tf":
        return printed
    key = question.option_keys[LETTERS.index(printed)]
    return paper.key_map[question.qid]["keys"][key]


def pending_station_ids(session: Session) -> set[int]:
    """The paper stations in view whose sheet is not agreed yet: no theory score for them."""
    return {station_id for station_id, answers in sheet_answers(session).items()
            if answers is None}


def paper_seats(session: Session) -> set[tuple[str, str]]:
    """(session code, station code) of every station in view that answers on paper: what the
    results pages mark as graded from paper."""
    return {(session_code, code) for session_code, code in session.execute(
        select(ExamSession.code, Station.code)
        .join(PaperStation, PaperStation.station_id == Station.id)
        .join(ExamSession, ExamSession.id == Station.exam_session_id))}
