"""Who may do what: every permission named once, with the staff roles that hold it.

One table, asked everywhere: each staff route declares one permission (`web.requires`; a
second one for its POST where the page's writes are narrower than the page), a view asks
`web.may(...)` for a part of a page, a template asks `may(NAME)`, and a navigation entry is
shown to the roles of the page it opens. Pure (no Flask), so the CLI or a service may ask
`permission.granted_to(role)` too. The role codes themselves live in `kiosk.models.ROLES`.

The supervisor reads everything and writes nothing: read permissions list it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.models import ROLES


@dataclass(frozen=True)
class Permission:
    name: str
    roles: frozenset[str]

    def granted_to(self, role: str | None) -> bool:
        return role in self.roles


TABLE: dict[str, Permission] = {}


def _permission(name: str, *roles: str) -> Permission:
    """A row of the table; a role that does not exist or a name given twice is a mistake in
    the code, refused when the module is imported."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"permission {name!r} names no role or unknown roles: {sorted(unknown)}")
    if name in TABLE:
        raise ValueError(f"permission {name!r} is declared twice")
    TABLE[name] = Permission(name, frozenset(roles))
    return TABLE[name]


# ----------------------------------------------------------------------------- every staff page
# Signed-in staff of any role: their home page, signing out.
STAFF = _permission("staff", *ROLES)
# The audit log: reading it, checking a paper checkpoint against it, printing a checkpoint.
READ_AUDIT_LOG = _permission("read_audit_log", "chief", "supervisor")

# ----------------------------------------------------------------------------- check-in
# The roster, the live counts, the absent list and the check-in sheet.
READ_ROSTER = _permission("read_roster", "chief", "checkin", "supervisor")
IMPORT_ROSTER = _permission("import_roster", "chief")
# The check-in desk: scanning, undoing a check-in, the contestant's photo.
CHECK_IN = _permission("check_in", "chief", "checkin")
# 检录员打印工位牌; the chief judge may too.
PRINT_BADGES = _permission("print_badges", "chief", "checkin")
# Recording that a contestant cannot come (withdrawn: kept on the roster, refused at check-in).
WITHDRAW_CONTESTANT = _permission("withdraw_contestant", "chief", "checkin")
# The session draw (场次抽签) at the leaders' meeting: run by the chief judge (commit, entropy,
# a redraw before it is published), watched and its record printed by the supervisor too.
WATCH_SESSION_DRAW = _permission("watch_session_draw", "chief", "supervisor")
RUN_SESSION_DRAW = _permission("run_session_draw", "chief")

# ----------------------------------------------------------------------------- the two draws
# Each stage's ceremony: its page and record sheets are watched by the supervisor too, the
# entropy comes from the judge's or the supervisor's screen, and every other step (commit,
# lots, late assignments, the seal) is the stage's encryption judge's alone.
WATCH_DRAW_1 = _permission("watch_draw_1", "crypt1", "supervisor")
ADD_ENTROPY_1 = _permission("add_entropy_1", "crypt1", "supervisor")
RUN_DRAW_1 = _permission("run_draw_1", "crypt1")
WATCH_DRAW_2 = _permission("watch_draw_2", "crypt2", "supervisor")
ADD_ENTROPY_2 = _permission("add_entropy_2", "crypt2", "supervisor")
RUN_DRAW_2 = _permission("run_draw_2", "crypt2")
RUN_DRAW = {1: RUN_DRAW_1, 2: RUN_DRAW_2}

# ----------------------------------------------------------------------------- theory exam
# The question bank and its export, the paper's spec, the theory results.
READ_THEORY = _permission("read_theory", "chief", "supervisor")
# Importing the bank, enabling and disabling questions, building the papers.
PREPARE_THEORY = _permission("prepare_theory", "chief")
# The paper fallback (纸质作答): printing every station's paper and answer sheet ahead (the chief
# judge, who holds the papers until the exam), and switching a station to paper when the
# network fails.
PRINT_PAPERS = _permission("print_papers", "chief")
SWITCH_TO_PAPER = _permission("switch_to_paper", "chief")
# The stations on paper and how far their answer sheets are typed in (not what was typed).
READ_ANSWER_SHEETS = _permission("read_answer_sheets", "chief", "scorer", "supervisor")
# Typing a sheet in: each judge sees only the entry they type, never the other one.
ENTER_ANSWER_SHEETS = _permission("enter_answer_sheets", "chief", "scorer")
# Both entries side by side, the online answers kept, the differences: READ_THEORY; deciding
# a difference with a reason: the chief judge.
RESOLVE_ANSWER_SHEETS = _permission("resolve_answer_sheets", "chief")

# ----------------------------------------------------------------------------- the exam floor
# The control page: phases, announcements, the hall clock's link.
READ_CONTROL = _permission("read_control", "chief", "supervisor")
# Starting, pausing, resuming, cancelling and ending a phase; announcing and withdrawing.
CONTROL_EXAM = _permission("control_exam", "chief")
# The stations' dashboard and each station's page.
WATCH_STATIONS = _permission("watch_stations", "field", "chief", "supervisor")
# Releasing, rebinding, extending a station; its early finish and its incidents.
ACT_ON_STATIONS = _permission("act_on_stations", "field", "chief")
# The day's timetable (赛程): read by the judges on the floor, edited by the chief judge.
READ_TIMETABLE = _permission("read_timetable", "chief", "field", "supervisor")
EDIT_TIMETABLE = _permission("edit_timetable", "chief")
# The hall map (场地布局图): seen by whoever watches the stations (the dashboard's map, its A3
# print); imported by the chief judge.
EDIT_HALL_LAYOUT = _permission("edit_hall_layout", "chief")

# ----------------------------------------------------------------------------- hand-ins
# The collection desk's page, the poster, the receipts.
READ_HAND_INS = _permission("read_hand_ins", "field", "chief", "supervisor")
# Handing in at the desk on a station's behalf.
COLLECT_AT_DESK = _permission("collect_at_desk", "field", "chief")
# The sealed export page and each bundle's seal record.
READ_EXPORTS = _permission("read_exports", "crypt1", "crypt2", "supervisor")
EXPORT_HAND_INS = _permission("export_hand_ins", "crypt1", "crypt2")

# ----------------------------------------------------------------------------- scoring
# Scorekeepers enter independently: they see their own entry only, never the other one, the
# differences or the totals.
ENTER_MARKS = _permission("enter_marks", "chief", "scorer")
# The menu entry for the two entries: the chief judge opens them from Scoring's tabs.
KEEP_SCORES = _permission("keep_scores", "scorer")
# The overview, both entries' marks, the differences, the deductions, the review sample
# (confirming a mark or reporting an error).
REVIEW_SCORES = _permission("review_scores", "chief", "supervisor")
# The chief judge's decisions: resolving a difference, deductions, drawing the review sample,
# correcting a reported error, locking and unlocking.
DECIDE_SCORES = _permission("decide_scores", "chief")
# The unsealing page; each layer is opened by its own encryption judge.
UNSEAL = _permission("unseal", "crypt1", "crypt2", "chief", "supervisor")
OPEN_LAYER_1 = _permission("open_layer_1", "crypt1")
OPEN_LAYER_2 = _permission("open_layer_2", "crypt2")
OPEN_LAYER = {1: OPEN_LAYER_1, 2: OPEN_LAYER_2}
# The final results with names, on the page, as PDF and xlsx.
READ_FINAL_RESULTS = _permission("read_final_results", "chief", "supervisor")

# ----------------------------------------------------------------------------- task books
# Each part's task books and data (任务书), and which station fetched which file.
READ_MATERIALS = _permission("read_materials", "chief", "field", "supervisor")
# Adding them, and removing them before their part's release.
MANAGE_MATERIALS = _permission("manage_materials", "chief")
