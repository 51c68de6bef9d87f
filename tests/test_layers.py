"""The layers of docs/architecture.md, checked from the code's own imports.

Every module under kiosk/ (not the migrations) is read with `ast`; every import of a kiosk module
counts, at the top of a file or inside a function. The rules:
- a module imports only from its own room or from a layer below its own;
- Flask (and Werkzeug's HTTP) only in the web layer and the command line above it, click only
  in the command line;
- no import cycle among kiosk's modules;
- no function over MAX_FUNCTION_LINES lines;
- a function-local import of a kiosk module only where LOCAL_IMPORTS gives the reason.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIOSK = ROOT / "kiosk"


@dataclass(frozen=True)
class Layer:
    name: str
    # room → module-name patterns (fnmatch). Rooms of one layer stand side by side: none imports
    # another. A one-room layer is a layer whose modules import one another freely.
    rooms: dict[str, tuple[str, ...]]


# Bottom to top, as docs/architecture.md ("Layers") draws them. A module belongs to the first
# room whose pattern it matches, looking from the top layer down: `kiosk.checkin.views` is the
# web layer's although `kiosk.checkin.*` is checkin's.
LAYERS = (
    Layer("foundation", {"foundation": (
        "kiosk", "kiosk.errors", "kiosk.numbers", "kiosk.clock", "kiosk.config", "kiosk.db",
        "kiosk.models", "kiosk.crypto", "kiosk.tls", "kiosk.tabular", "kiosk.instance",
        "kiosk.audit", "kiosk.checkpoints", "kiosk.pdf", "kiosk.staff", "kiosk.device_cookie",
        "kiosk.judge_keys", "kiosk.network", "kiosk.permissions", "kiosk.scope",
        "kiosk.group_commit", "kiosk.progress", "kiosk.charts", "kiosk.read_cache")}),
    Layer("stations", {"stations": ("kiosk.stations", "kiosk.stations.*")}),
    Layer("capabilities", {
        "checkin": ("kiosk.checkin", "kiosk.checkin.*"),
        "theory_exam": ("kiosk.theory_exam", "kiosk.theory_exam.*"),
        "collect": ("kiosk.collect", "kiosk.collect.*"),
        "materials": ("kiosk.materials", "kiosk.materials.*")}),
    # results reads what the others recorded: the seal's opening (checkin), the theory scores.
    Layer("results", {"results": ("kiosk.results", "kiosk.results.*")}),
    # The hall's top: imports every capability, none imports it (but the web and the CLI).
    Layer("field", {"field": ("kiosk.field", "kiosk.field.*", "kiosk.all_models",
                              "kiosk.backup")}),
    Layer("web", {"web": (
        "kiosk.app", "kiosk.web", "kiosk.api", "kiosk.openapi", "kiosk.staff_views",
        "kiosk.http", "kiosk.serve", "kiosk.*.views",
        # Flask-Babel: the language of a page, and the catalogs the CLI and the door read.
        "kiosk.i18n",
        # The badge-guess refusal as WSGI in front of Flask (werkzeug.http), installed by kiosk.app.
        "kiosk.badge_door",
        # Reads a hand-in piece's body from Flask's request, for collect's views and the API.
        "kiosk.collect.piece_io")}),
    # The `kiosk` command: makes and serves the app, so it stands on the web layer.
    Layer("command line", {"command line": (
        "kiosk.__main__", "kiosk.cli", "kiosk.cli_*", "kiosk.cli.*", "kiosk.*.cli",
        "kiosk.demo", "kiosk.rehearse")}),
)

# Flask and Werkzeug's HTTP: only these layers may import them.
FLASK = ("flask", "flask_babel", "flask_login", "flask_wtf", "werkzeug")
FLASK_LAYERS = ("web", "command line")
# Werkzeug's password hashes are no HTTP (kiosk.staff).
NOT_FLASK = ("werkzeug.security",)
# click: only the command line.
CLICK = ("click",)

MAX_FUNCTION_LINES = 80

# The one import up the layers: the package's create_app (see LOCAL_IMPORTS) makes the app.
PACKAGE_ENTRY = ("kiosk", "kiosk.app")

# (importing module, imported module) → why the import is inside a function. The same reason
# stands in a comment beside the import.
LOCAL_IMPORTS: dict[tuple[str, str], str] = {
    PACKAGE_ENTRY: (
        "kiosk.create_app (what `flask --app kiosk` finds): importing kiosk.app at the top would "
        "load Flask and every blueprint for every `import kiosk.…`"),
    ("kiosk.cli", "kiosk.tls"): (
        "cryptography's x509 layer costs `kiosk --help` more than all other commands' imports "
        "together (~70 ms CPU of ~1.1 s); only `kiosk tls init` needs it"),
}

# Files whose function-local imports, or functions too long, wait for a change of their own:
# each entry says which. Empty: keep it so.
PENDING_LOCAL_IMPORTS: dict[str, str] = {}
PENDING_LONG_FUNCTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str    # kiosk.checkin.views
    imported: str    # kiosk.checkin.roster, or flask.json
    path: str        # kiosk/checkin/views.py
    line: int
    local: bool      # inside a function
    type_only: bool  # under `if TYPE_CHECKING:`

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(KIOSK.rglob("*.py"))
            if "migrations" not in path.relative_to(KIOSK).parts}


@cache
def trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text("utf-8"), str(path))
            for name, path in modules().items()}


def _imported_names(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        if modules()[module].name != "__init__.py":
            package = package[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    # `from kiosk import web` imports the module kiosk.web; `from kiosk.web import x` kiosk.web.
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base
            for alias in node.names]


def _walk(node: ast.AST, local: bool, type_only: bool):
    """Every import below `node`: (node, inside a function, only under `if TYPE_CHECKING:`)."""
    if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
        for child in node.body:
            yield from _walk_one(child, local, True)
        for child in node.orelse:
            yield from _walk_one(child, local, type_only)
        return
    for child in ast.iter_child_nodes(node):
        yield from _walk_one(child, local, type_only)


def _walk_one(node: ast.AST, local: bool, type_only: bool):
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, local, type_only
    yield from _walk(node, local or isinstance(
        node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda), type_only)


@cache
def imports() -> tuple[Import, ...]:
    found = []
    for module, tree in trees().items():
        path = str(modules()[module].relative_to(ROOT))
        for node, local, type_only in _walk(tree, False, False):
            for name in dict.fromkeys(_imported_names(module, node)):
                found.append(Import(module, name, path, node.lineno, local, type_only))
    return tuple(found)


def kiosk_imports() -> list[Import]:
    return [i for i in imports() if i.imported == "kiosk" or i.imported.startswith("kiosk.")]


def _package(name: str) -> str:
    return name.split(".")[0]


@cache
def room_of(module: str) -> tuple[int, str] | None:
    """(the layer's index from the bottom, the room) of a module, or None."""
    for index in reversed(range(len(LAYERS))):
        for room, patterns in LAYERS[index].rooms.items():
            if any(fnmatchcase(module, pattern) for pattern in patterns):
                return index, room
    return None


def _layer_text(module: str) -> str:
    index, room = room_of(module)
    layer = LAYERS[index].name
    return layer if room == layer else f"{layer} ({room})"


def test_every_module_has_a_layer():
    unplaced = [m for m in modules() if room_of(m) is None]
    assert not unplaced, (
        "Put each of these modules in a room of LAYERS in tests/test_layers.py and in the "
        f"'Layers' section of docs/architecture.md: {unplaced}")


def test_imports_go_down_the_layers():
    wrong = []
    for i in kiosk_imports():
        if i.type_only or room_of(i.importer) is None or room_of(i.imported) is None:
            continue
        (low, room), (high, other_room) = room_of(i.importer), room_of(i.imported)
        allowed = other_room == room or high < low
        if allowed or (i.importer, i.imported) == PACKAGE_ENTRY:
            continue
        if high == low:
            advice = (f"rooms of one layer do not import one another: move what both need into "
                      f"a layer below {LAYERS[low].name}, or the caller into a layer above")
        else:
            advice = (f"a layer above it: move what {i.importer} needs into "
                      f"{LAYERS[low].name} or below, or call it from {LAYERS[high].name} or "
                      "above and pass the result down")
        wrong.append(f"{i.where}: {i.importer} ({_layer_text(i.importer)}) imports "
                     f"{i.imported} ({_layer_text(i.imported)}); {advice}")
    assert not wrong, "Imports against docs/architecture.md's layers:\n" + "\n".join(wrong)


def test_flask_only_in_the_web_layer_and_the_command_line():
    wrong = []
    for i in imports():
        if room_of(i.importer) is None:
            continue
        layer = LAYERS[room_of(i.importer)[0]].name
        flask = _package(i.imported) in FLASK and not i.imported.startswith(NOT_FLASK)
        if flask and layer not in FLASK_LAYERS:
            wrong.append(f"{i.where}: {i.importer} ({_layer_text(i.importer)}) imports "
                         f"{i.imported}: read the request in a view (web layer) and pass plain "
                         "values down")
        if _package(i.imported) in CLICK and layer != "command line":
            wrong.append(f"{i.where}: {i.importer} ({_layer_text(i.importer)}) imports "
                         f"{i.imported}: commands and their options live in a cli module")
    assert not wrong, "Framework imports below their layer:\n" + "\n".join(wrong)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _graph(*, with_local: bool) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for i in kiosk_imports():
        if i.type_only or (i.local and not with_local) or i.importer == i.imported:
            continue
        # Importing kiosk.a.b runs kiosk/a/__init__.py first, not the other way round.
        if i.importer.startswith(i.imported + "."):
            continue
        edges[i.importer].add(i.imported)
        edges[i.imported]
    return edges


def _cycle_text(component: list[str], edges: dict[str, set[str]]) -> str:
    members = set(component)
    links = [f"{a} → {b} ({', '.join(_where(a, b))})" for a in component
             for b in sorted(edges[a] & members)]
    return "one cycle: " + "; ".join(links)


def _where(importer: str, imported: str) -> list[str]:
    return [i.where for i in kiosk_imports() if (i.importer, i.imported) == (importer, imported)]


def test_no_import_cycle_at_the_top_of_modules():
    edges = _graph(with_local=False)
    cycles = _cycles(edges)
    assert not cycles, ("Import cycles among kiosk's modules (top-level imports); break each by "
                        "moving what both need into a module below them:\n"
                        + "\n".join(_cycle_text(c, edges) for c in cycles))


def test_no_import_cycle_but_through_a_documented_local_import():
    edges = _graph(with_local=True)
    for i in kiosk_imports():
        if i.local and (i.importer, i.imported) in LOCAL_IMPORTS:
            edges[i.importer].discard(i.imported)
    cycles = [c for c in _cycles(edges)
              if not any(_path_of(m) in PENDING_LOCAL_IMPORTS for m in c)]
    assert not cycles, ("Import cycles through function-local imports; break each by moving "
                        "what both need into a module below them:\n"
                        + "\n".join(_cycle_text(c, edges) for c in cycles))


def _path_of(module: str) -> str:
    return str(modules()[module].relative_to(ROOT))


def test_function_local_imports_of_kiosk_only_with_a_reason():
    local = [i for i in kiosk_imports() if i.local and i.path not in PENDING_LOCAL_IMPORTS]
    unexplained = [f"{i.where}: `import {i.imported}` inside a function of {i.importer}: move "
                   "it to the top of the file (or, if a cycle or a heavy import needs it there, "
                   "say why in a comment and in LOCAL_IMPORTS in tests/test_layers.py)"
                   for i in local if (i.importer, i.imported) not in LOCAL_IMPORTS]
    assert not unexplained, "Function-local imports of kiosk modules:\n" + "\n".join(unexplained)
    present = {(i.importer, i.imported) for i in kiosk_imports() if i.local}
    stale = [f"{pair}" for pair in LOCAL_IMPORTS if pair not in present]
    assert not stale, ("These LOCAL_IMPORTS of tests/test_layers.py are no longer inside a "
                       f"function: remove them from the list: {stale}")
    done = [path for path in PENDING_LOCAL_IMPORTS
            if not any(i.path == path and i.local for i in kiosk_imports())]
    assert not done, f"No function-local imports left: remove from PENDING_LOCAL_IMPORTS: {done}"


def _long_functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, int]]:
    """(path, function, its lines from `def` to its last line) over MAX_FUNCTION_LINES."""
    found = []
    for module, tree in trees().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append((_path_of(module), node, lines))
    return found


def test_no_function_over_80_lines():
    found = _long_functions()
    long = [f"{path}:{node.lineno}: {node.name} has {lines} lines (at most "
            f"{MAX_FUNCTION_LINES}): split it into functions named for their parts"
            for path, node, lines in found if (path, node.name) not in PENDING_LONG_FUNCTIONS]
    assert not long, "Functions too long to read at once:\n" + "\n".join(long)
    present = {(path, node.name) for path, node, _ in found}
    done = [key for key in PENDING_LONG_FUNCTIONS if key not in present]
    assert not done, f"No longer over the limit: remove from PENDING_LONG_FUNCTIONS: {done}"


def test_the_checks_see_what_they_check():
    # A test that reads nothing passes on anything.
    assert {"kiosk.web", "kiosk.checkin.views", "kiosk.stations.phases"} <= set(modules())
    assert any(i.local for i in kiosk_imports())
    assert _layer_text("kiosk.checkin.views") == "web"
    assert _layer_text("kiosk.checkin.roster") == "capabilities (checkin)"
    assert _layer_text("kiosk.field.cli") == "command line"
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
