"""The hall map (场地布局图): where each station (赛位) stands in the hall, from a text grid.

One layout for the event, not one per session (场次): the sessions run on the same seats (a
station is one row per session, the same code in each: kiosk.scope), so the hall a field judge
walks is the same whichever session it serves. The layout is a drawing keyed by station code.

The file (docs/hall-map.md): one line per row of the hall, front first (the line at the top is
the front of the hall as drawn, e.g. the judges' desk); cells separated by spaces (or a `.csv`,
one cell a cell, an empty cell being floor):

    标题：综合馆赛场
    [裁判席] [裁判席] [裁判席] .   [门]
    A01  A02  A03  |  A04  A05  A06
    ---- 主通道 ----
    A07  A08  A09  |  A10  +    +备2

- a station code (`A01`): that station's seat;
- `+` a spare seat (备用工位: a workstation no station is bound to), `+NAME` a named one;
- `|` an aisle (通道); a line of `---` (with an optional label) a cross aisle across the hall;
- `.` floor (nothing there);
- `[TEXT]` a landmark (裁判席, 门, 技术服务站 …); the same `[TEXT]` over a rectangle of cells is
  one landmark over all of them.

Pure, but for `stored`, `validate` and `import_layout`: parsing names every problem by the
file's line and cell, and the import is all or nothing (ImportErrors); a station of the event
missing from the map is a warning, not a refusal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit, scope
from kiosk.db import write_transaction
from kiosk.errors import N_, ImportErrors, NotFound, Problem
from kiosk.field.models import HallLayout
from kiosk.stations.models import Station

MAX_BYTES = 256 * 1024
MAX_ROWS, MAX_COLUMNS = 120, 120
MAX_LABEL = 40
FLOOR, AISLE, SPARE = ".", "|", "+"
CODE = re.compile(r"[A-Za-z]{1,4}\d{1,4}")
CROSS_AISLE = re.compile(r"^-{3,}\s*(.*?)\s*-*$")
TITLE = re.compile(r"^(?:标题|title)\s*[:：]\s*(.*)$", re.IGNORECASE)
TOKEN = re.compile(r"\[[^\]]*\]|\S+")
DOOR_WORDS = ("门", "入口", "出口", "door", "entrance", "exit")


@dataclass(frozen=True)
class Item:
    """One thing on the map. `row`, `col` from 0 at the top left; a cross aisle spans the
    hall's width. `seat` is (排, 座) for a seat or a spare seat: its row among the rows that have
    seats, counted from the front, and its place in that row counted from the left."""

    kind: str  # "station", "spare", "landmark", "aisle" (a cross aisle)
    label: str  # the station code, the spare seat's name, the landmark's or the aisle's text
    row: int
    col: int
    width: int = 1
    height: int = 1
    line: int = 0  # in the file
    seat: tuple[int, int] | None = None

    @property
    def door(self) -> bool:
        return self.kind == "landmark" and any(w in self.label.lower() for w in DOOR_WORDS)


@dataclass(frozen=True)
class Cell:
    """One cell of the map as a table shows it: an item's top-left cell (spanning), an aisle,
    or floor. Cells that an item spans past its first are not listed."""

    kind: str  # "item", "aisle", "floor"
    item: Item | None = None


@dataclass(frozen=True)
class Layout:
    title: str
    rows: int
    columns: int
    items: tuple[Item, ...]
    aisle_cells: frozenset[tuple[int, int]] = frozenset()

    @property
    def stations(self) -> dict[str, Item]:
        return {i.label: i for i in self.items if i.kind == "station"}

    @property
    def spare_seats(self) -> list[Item]:
        return [i for i in self.items if i.kind == "spare"]

    @property
    def cross_aisles(self) -> set[int]:
        return {i.row for i in self.items if i.kind == "aisle"}

    @property
    def aisle_columns(self) -> set[int]:
        """Columns with nothing but aisle and floor in them (and an aisle): drawn narrow."""
        used = {(r, c) for i in self.items if i.kind != "aisle"
                for r in range(i.row, i.row + i.height) for c in range(i.col, i.col + i.width)}
        columns = {c for _, c in self.aisle_cells}
        return {c for c in columns if not any((r, c) in used for r in range(self.rows))}

    def table(self) -> list[tuple[str, int | None, list[Cell]]]:
        """The map row by row, for an HTML table: (kind of row, its 排 number or None, its
        cells). A cross aisle is one cell over the whole width."""
        starts = {(i.row, i.col): i for i in self.items}
        covered = {(r, c) for i in self.items
                   for r in range(i.row, i.row + i.height) for c in range(i.col, i.col + i.width)}
        numbers = {i.row: i.seat[0] for i in self.items if i.seat}
        out = []
        for r in range(self.rows):
            if r in self.cross_aisles:
                out.append(("aisle", None, [Cell("item", starts[(r, 0)])]))
                continue
            cells = []
            for c in range(self.columns):
                if (r, c) in starts:
                    cells.append(Cell("item", starts[(r, c)]))
                elif (r, c) in covered:
                    continue
                else:
                    cells.append(Cell("aisle" if (r, c) in self.aisle_cells else "floor"))
            out.append(("seats" if r in numbers else "other", numbers.get(r), cells))
        return out

    def geometry(self, aisle: float = 0.45) -> tuple[list[float], list[float]]:
        """Left edges of the columns and top edges of the rows in seat widths (one more edge
        than columns or rows): aisle columns and cross aisles are narrower."""
        narrow = self.aisle_columns
        xs, ys = [0.0], [0.0]
        for c in range(self.columns):
            xs.append(xs[-1] + (aisle if c in narrow else 1.0))
        for r in range(self.rows):
            ys.append(ys[-1] + (0.6 if r in self.cross_aisles else 1.0))
        return xs, ys


@dataclass(frozen=True)
class Checked:
    """A layout that may be stored, with what is worth knowing about it."""

    layout: Layout
    warnings: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # stations of the event not on the map


# ----------------------------------------------------------------------------- parsing

def _rows_of(text: str, filename: str) -> list[tuple[int, list[str] | str]]:
    """(line, cells) for a row of seats, (line, "---label") for a cross aisle, (line,
    "title:…") for the title; comments and blank lines dropped."""
    out: list[tuple[int, list[str] | str]] = []
    if filename.lower().endswith(".csv"):
        for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
            cells = [c.strip() for c in cells]
            first = next((c for c in cells if c), "")
            if not first or first.startswith("#"):
                continue
            if CROSS_AISLE.match(first) or TITLE.match(first):
                out.append((number, " ".join(c for c in cells if c)))
            else:
                out.append((number, [c or FLOOR for c in cells]))
        return out
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if CROSS_AISLE.match(stripped) or TITLE.match(stripped):
            out.append((number, stripped))
        else:
            out.append((number, TOKEN.findall(stripped)))
    return out


def parse(raw: bytes, filename: str = "layout.txt") -> Layout:
    """The layout file as a Layout; ImportErrors lists every problem, each by its line and
    cell (`line 3: cell 4: …`)."""
    text = _decoded(raw)
    layout, problems = _parse_text(text, filename)
    if problems:
        raise ImportErrors(list(problems))
    return layout


def _decoded(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise ImportErrors([Problem(None, N_("A hall layout is a small text file (at most "
                                             "256 KB)."))])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportErrors([Problem(None, N_("The hall layout is not UTF-8 text."))]) from None


@lru_cache(maxsize=8)
def _parse_text(text: str, filename: str) -> tuple[Layout, tuple[Problem, ...]]:
    """The layout and its problems: what could be read of a layout with problems is still a
    layout, so that the check against the event can list its problems too."""
    problems: list[Problem] = []
    title = ""
    grid: list[tuple[int, list[str] | None, str]] = []  # (line, cells or None, aisle label)
    for number, row in _rows_of(text, filename):
        if isinstance(row, str):
            if found := TITLE.match(row):
                title = found.group(1).strip()[:200]
            else:
                grid.append((number, None, CROSS_AISLE.match(row).group(1)[:MAX_LABEL]))
        else:
            grid.append((number, row, ""))
    columns = max((len(cells) for _, cells, _ in grid if cells), default=0)
    if len(grid) > MAX_ROWS or columns > MAX_COLUMNS:
        raise ImportErrors([Problem(None, N_("The hall layout is too large: at most %(rows)s "
                                             "rows of %(columns)s cells."),
                                    {"rows": MAX_ROWS, "columns": MAX_COLUMNS})])
    items: list[Item] = []
    aisles: set[tuple[int, int]] = set()
    landmarks: dict[str, list[tuple[int, int, int]]] = {}
    first_seen: dict[str, int] = {}
    for r, (number, cells, label) in enumerate(grid):
        if cells is None:
            items.append(Item("aisle", label, r, 0, max(columns, 1), 1, number))
            continue
        for c, token in enumerate(cells):
            where = {"cell": c + 1, "token": token}
            if token == FLOOR:
                continue
            if token == AISLE:
                aisles.add((r, c))
            elif token.startswith("[") and token.endswith("]") and len(token) > 2:
                landmarks.setdefault(token[1:-1].strip()[:MAX_LABEL], []).append((r, c, number))
            elif token.startswith(SPARE):
                items.append(Item("spare", token[1:][:MAX_LABEL], r, c, line=number))
            elif CODE.fullmatch(token):
                code = token.upper()
                if code in first_seen:
                    problems.append(Problem(number, N_(
                        "cell %(cell)s: %(station)s is on the map twice (first on line "
                        "%(first)s)."), {**where, "station": code, "first": first_seen[code]}))
                    continue
                first_seen[code] = number
                items.append(Item("station", code, r, c, line=number))
            else:
                problems.append(Problem(number, N_(
                    "cell %(cell)s: %(token)s is not a station code (A01), a spare seat (+), an "
                    "aisle (|), floor (.) or a landmark in brackets ([门])."), where))
    for label, cells in landmarks.items():
        placed, problem = _rectangle(label, cells)
        if problem:
            problems.append(problem)
        else:
            items.append(placed)
    if not problems and not any(i.kind in ("station", "spare") for i in items):
        problems.append(Problem(None, N_("The hall layout has no seat: write the station codes "
                                         "where the stations stand.")))
    layout = Layout(title, len(grid), columns, tuple(_numbered(items)), frozenset(aisles))
    return layout, tuple(sorted(problems, key=lambda p: p.line or 0))


def _rectangle(label: str, cells: list[tuple[int, int, int]]) -> tuple[Item | None,
                                                                        Problem | None]:
    rows = [r for r, _, _ in cells]
    cols = [c for _, c, _ in cells]
    top, left = min(rows), min(cols)
    height, width = max(rows) - top + 1, max(cols) - left + 1
    line = min(n for _, _, n in cells)
    if not label:
        return None, Problem(line, N_("A landmark needs its text in the brackets, e.g. [门]."))
    if len(cells) != height * width or len({(r, c) for r, c, _ in cells}) != len(cells):
        return None, Problem(line, N_(
            "[%(label)s] is written over cells that are not one rectangle: write one landmark "
            "over a rectangle of cells, or give each its own text."), {"label": label})
    return Item("landmark", label, top, left, width, height, line), None


def _numbered(items: list[Item]) -> list[Item]:
    """Seats with their (排, 座): rows that have seats numbered from the front, seats from the
    left; everything in the order of the map (top to bottom, left to right)."""
    seat_rows = sorted({i.row for i in items if i.kind in ("station", "spare")})
    row_number = {row: n for n, row in enumerate(seat_rows, start=1)}
    out = []
    place: dict[int, int] = {}
    for item in sorted(items, key=lambda i: (i.row, i.col)):
        if item.kind in ("station", "spare"):
            place[item.row] = place.get(item.row, 0) + 1
            item = Item(item.kind, item.label, item.row, item.col, item.width, item.height,
                        item.line, (row_number[item.row], place[item.row]))
        out.append(item)
    return out


# ----------------------------------------------------------------------------- against the event

def unknown_stations(layout: Layout, codes: set[str]) -> list[Problem]:
    """A station on the map that the event does not have: a problem each."""
    return [Problem(item.line, N_(
        "%(station)s is on the map but is not a station of this event (kiosk stations add "
        "makes stations)."), {"station": item.label})
        for item in layout.stations.values() if item.label not in codes]


def check(layout: Layout, codes: set[str], spare_codes: set[str] = frozenset()) \
        -> list[Problem]:
    """Warnings of a layout against the event's stations (a station missing from the map);
    raises ImportErrors for a station on the map that the event does not have."""
    unknown = unknown_stations(layout, codes)
    if unknown:
        raise ImportErrors(unknown)
    missing = sorted(codes - set(layout.stations))
    warnings = []
    if missing:
        warnings.append(Problem(None, N_(
            "%(n)s stations are not on the map (they are still in the list): %(stations)s"),
            {"n": len(missing), "stations": ", ".join(
                f"{code}*" if code in spare_codes else code for code in missing)}))
    return warnings


def event_stations(session: Session) -> tuple[set[str], set[str]]:
    """Every station code of the event (all sessions: the same seats), and the spare ones."""
    with scope.event_wide(session):
        rows = session.execute(select(Station.code, Station.spare)).all()
    return {code for code, _ in rows}, {code for code, spare in rows if spare}


def validate(session: Session, raw: bytes, filename: str) -> Checked:
    layout, problems = _parse_text(_decoded(raw), filename)
    codes, spare = event_stations(session)
    # Every problem at once: the file's own and the stations the event does not have.
    if problems:
        problems += tuple(unknown_stations(layout, codes))
        raise ImportErrors(sorted(problems, key=lambda p: p.line or 0))
    return Checked(layout, check(layout, codes, spare), sorted(codes - set(layout.stations)))


def import_layout(session: Session, raw: bytes, filename: str, *, actor: audit.Actor,
                  now: datetime) -> Checked:
    """Store the layout (all or nothing); the previous ones stay as history."""
    checked = validate(session, raw, filename)
    source = raw.decode("utf-8-sig")
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    layout = checked.layout
    with write_transaction(session):
        row = HallLayout(source=source, filename=filename[:255], sha256=digest,
                         seats=len(layout.stations) + len(layout.spare_seats),
                         imported_by=actor.name, imported_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor, "hall.layout_imported", at=now, subject="hall",
                     details={"filename": row.filename, "sha256": digest,
                              "stations": len(layout.stations),
                              "spare_seats": len(layout.spare_seats),
                              "not_on_map": len(checked.missing)})
    return checked


@dataclass(frozen=True)
class Stored:
    row: HallLayout
    layout: Layout


def stored(session: Session) -> Stored | None:
    """The layout in force (the last imported), or None: one statement."""
    row = session.scalar(select(HallLayout).order_by(HallLayout.id.desc()).limit(1))
    if row is None:
        return None
    return Stored(row, _parse_text(row.source, row.filename)[0])


def seat_of(session: Session, code: str) -> tuple[Layout, Item]:
    """Where station `code` stands (the check-in desk's 查看座位): the layout and its seat; a
    NotFound says why not. Reads nothing of the draw: any station on the map is shown, drawn
    or not, so the desk cannot learn from it which stations are taken."""
    found = stored(session)
    if found is None:
        raise NotFound(N_("No hall layout has been imported yet: kiosk hall layout import "
                          "FILE, or the Hall layout page."))
    wanted = code.strip().upper()
    item = found.layout.stations.get(wanted)
    if item is None:
        raise NotFound(N_("%(station)s is not on the hall map."), station=wanted[:16])
    return found.layout, item
