"""Charts drawn on the server, offline: data in, SVG (or PNG) bytes out. Pure: no database,
no Flask, no translation (the caller passes every label already in the page's language).

matplotlib draws them, through its object API only (`matplotlib.figure.Figure` and the SVG/Agg
canvases; never pyplot's global figure state), and is imported on the first chart drawn, never
when kiosk starts (`kiosk --help` and the server's start stay as fast as without it).

- Text is drawn as paths (matplotlib's `svg.fonttype` "path", its default): a chart shows
  the same Chinese on a kiosk, a judge's laptop or a projector that has no CJK font, and an
  `<img>`'s SVG could not load one anyway. Each glyph is stored once and reused.
- The CJK font is found through `matplotlib.font_manager` (WenQuanYi Zen Hei first, as the
  PDFs); with none, the chart still draws (`cjk_font()` is None: the caller then passes its
  labels in English, `draws_chinese()`), and the page's table keeps every figure.
- Every chart is cached by the data it draws: a SHA-256 of the kind, the inputs and the font.
  A page reloaded with the same figures costs a hash, no drawing. Renders are serialised by a
  lock (matplotlib's font objects are shared): a render is tens of milliseconds, and cached.
- Each drawn mark carries its figures (`data-*` attributes and a `<title>` on its `<g>`), so
  the SVG reads back (tests, or anyone opening the file).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO

log = logging.getLogger(__name__)

# Searched in this order (family names as matplotlib's font manager reads them).
CJK_FAMILIES = ("WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK SC",
                "Source Han Sans SC", "SimHei", "Microsoft YaHei", "SimSun", "AR PL UMing CN",
                "Arial Unicode MS")
FALLBACK_FAMILY = "DejaVu Sans"  # matplotlib ships it: Latin only

MAX_CACHED = 64  # charts kept (a few tens of KiB each)
FLAG_BELOW = 0.2  # discrimination below this deserves a look (as the results page says)
MAX_NUMBERED = 30  # points numbered in the scatter of a long paper (the lowest ones)

# Colours: readable in grey too (correct options also carry a ✓ and a darker edge).
BLUE, ORANGE, GREEN, GREY, LIGHT = "#1f5fa8", "#d9822b", "#2e7d32", "#9e9e9e", "#e6e6e6"
WRONG_SHADES = ("#c9d6e8", "#e8d3bf", "#d8d8d8", "#e3cfe0", "#cfe3df", "#e8e2bf")


@dataclass(frozen=True)
class Chart:
    kind: str
    data: bytes
    format: str  # "svg" or "png"
    digest: str  # of the inputs: the cache's key

    @property
    def mimetype(self) -> str:
        return "image/svg+xml" if self.format == "svg" else "image/png"

    def data_uri(self) -> str:
        """For `<img src=…>`: the page carries its chart, no second request, no state kept
        between requests (the CSP allows `img-src data:`)."""
        return f"data:{self.mimetype};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass
class _Stats:
    renders: int = 0
    hits: int = 0


stats = _Stats()
_cache: OrderedDict[str, Chart] = OrderedDict()
_cache_lock = threading.Lock()
_render_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def cached_count() -> int:
    return len(_cache)


# ----------------------------------------------------------------------------- fonts


@cache
def cjk_font() -> str | None:
    """The family of a CJK font matplotlib can use, or None (logged once)."""
    from matplotlib import font_manager  # heavy: only once a chart is drawn

    # wqy-zenhei is filed as weight 500: asked for "normal", the manager says so every time.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    log.warning("No CJK font for charts (Debian: apt install fonts-wqy-zenhei); "
                "charts are labelled in English, their tables keep the figures.")
    return None


def draws_chinese() -> bool:
    return cjk_font() is not None


def _family() -> list[str]:
    """The chart's fonts, in order: a glyph the CJK font lacks (−, ✓) comes from the next."""
    found = cjk_font()
    return [found, FALLBACK_FAMILY] if found else [FALLBACK_FAMILY]


# ----------------------------------------------------------------------------- drawing


def _digest(kind: str, inputs: object, fmt: str) -> str:
    text = json.dumps([kind, fmt, _family(), inputs], sort_keys=True, ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cached(kind: str, inputs: object, fmt: str, draw: Callable[[], object]) -> Chart:
    """The chart for these inputs: from the cache, else drawn (`draw` returns a Figure)."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown chart format {fmt!r}")
    key = _digest(kind, inputs, fmt)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            stats.hits += 1
            return found
    with _render_lock:
        figure, marks = draw()
        data = _save(figure, fmt, marks)
        stats.renders += 1
    chart = Chart(kind, data, fmt, key)
    with _cache_lock:
        _cache[key] = chart
        while len(_cache) > MAX_CACHED:
            _cache.popitem(last=False)
    return chart


def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.figure import Figure  # heavy: only once a chart is drawn

    return Figure(figsize=(width, height), dpi=100, layout=layout)


def _save(figure, fmt: str, marks: Mapping[str, Mapping[str, object]]) -> bytes:
    buffer = BytesIO()
    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG

        FigureCanvasSVG(figure)
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        return _annotate(buffer.getvalue(), marks)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=150, metadata={"Software": None})
    return buffer.getvalue()


def _annotate(svg: bytes, marks: Mapping[str, Mapping[str, object]]) -> bytes:
    """Each mark's `<g id=…>` gets its figures as data-* attributes and a <title>."""
    text = svg.decode("utf-8")

    def add(match: re.Match) -> str:
        gid = match.group(1)
        figures = marks.get(gid)
        if figures is None:
            return match.group(0)
        attributes = "".join(f' data-{name}="{html.escape(str(value), quote=True)}"'
                             for name, value in figures.items() if name != "title")
        title = figures.get("title")
        inner = f"<title>{html.escape(str(title))}</title>" if title else ""
        return f'<g id="{gid}"{attributes}>{inner}'

    return re.sub(r'<g id="(mark-[^"]+)">', add, text).encode("utf-8")


def _style(ax, family: str) -> None:
    ax.tick_params(labelfontfamily=family, labelsize=9)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="y", color=LIGHT, linewidth=0.8)
    ax.set_axisbelow(True)


def _nice_step(span: float, bins: int = 10) -> float:
    """A round bin width (1, 2, 2.5 or 5 times a power of ten) giving about `bins` bins."""
    if span <= 0:
        return 1.0
    raw = span / bins
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


# ----------------------------------------------------------------------------- item statistics


@dataclass(frozen=True)
class Item:
    qid: str
    facility: float | None  # share correct
    discrimination: float | None  # upper 27 % minus lower 27 %
    answer: str
    options: tuple[tuple[str, int], ...]  # (option as shown, how many chose it), "—": none
    n: int


def items_from_statistics(statistics: Sequence[Mapping]) -> list[Item]:
    """`theory_exam.exam.item_statistics`'s rows as chart items."""
    return [Item(str(s["qid"]), s.get("facility"), s.get("discrimination"), s["answer"],
                 tuple(sorted((str(k), int(v)) for k, v in s["options"].items())), int(s["n"]))
            for s in statistics]


def item_scatter(items: Sequence[Item], labels: Mapping[str, str], fmt: str = "svg") -> Chart:
    """Difficulty against discrimination: one point per question, numbered; below 0.2 shaded.
    labels: title, x, y, flag (the shaded band's note), question (as "%(q)s")."""
    points = [(i.qid, i.facility, i.discrimination) for i in items
              if i.facility is not None and i.discrimination is not None]
    inputs = {"points": points, "labels": dict(labels)}
    return _cached("item-scatter", inputs, fmt, lambda: _draw_scatter(points, labels))


def _draw_scatter(points, labels):
    family = _family()
    figure = _figure(8, 5)
    ax = figure.add_subplot()
    _style(ax, family)
    ax.axhspan(-1, FLAG_BELOW, color="#fdecea", zorder=0)
    ax.axhline(FLAG_BELOW, color="#c62828", linewidth=0.8, linestyle="--")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor="#fdecea", edgecolor="#c62828", label=labels["flag"])],
              loc="best", prop={"family": family, "size": 9}, framealpha=0.9)
    marks = {}
    # Numbered: every point of a short paper; of a long one the lowest (the page lists all).
    numbered = {q for q, _f, _d in sorted(points, key=lambda p: p[2])[:MAX_NUMBERED]} \
        if len(points) > MAX_NUMBERED * 2 else {q for q, _f, _d in points}
    for qid, facility, discrimination in points:
        flagged = discrimination < FLAG_BELOW
        gid = f"mark-item-{qid}"
        ax.plot([facility], [discrimination], "o", markersize=6, gid=gid,
                color="#c62828" if flagged else BLUE, alpha=0.85)
        if qid in numbered:
            ax.annotate(qid, (facility, discrimination), textcoords="offset points",
                        xytext=(4, 3), fontsize=7, family=family, color="#333333",
                        annotation_clip=True).set_in_layout(False)
        marks[gid] = {"question": qid, "facility": _number(facility),
                      "discrimination": _number(discrimination),
                      "title": labels["question"].replace("%(q)s", qid)
                      + f": {_number(facility)}, {_number(discrimination)}"}
    ax.set_xlim(-0.02, 1.02)
    low = min([d for _q, _f, d in points] + [-0.1])
    ax.set_ylim(min(-0.1, low - 0.05), 1.02)
    ax.set_xlabel(labels["x"], family=family)
    ax.set_ylabel(labels["y"], family=family)
    ax.set_title(labels["title"], family=family, fontsize=12)
    return figure, marks


def item_options(items: Sequence[Item], labels: Mapping[str, str],
                 option_names: Mapping[str, str] | None = None, fmt: str = "svg") -> Chart:
    """Per question, the share choosing each option, the correct one green with a ✓.
    labels: title, x, none (for "—", no answer), question ("%(q)s"), correct.
    option_names: how an option reads (T → 对), default the letter."""
    names = dict(option_names or {})
    rows = [(i.qid, i.answer, list(i.options), i.n) for i in items if i.n]
    inputs = {"rows": rows, "labels": dict(labels), "names": names}
    return _cached("item-options", inputs, fmt, lambda: _draw_options(rows, labels, names))


def _draw_options(rows, labels, names):
    family = _family()
    height = max(2.5, 0.9 + 0.24 * len(rows))
    # Fixed margins (inches): the constrained layout would measure every one of the hundreds
    # of labels, several times (most of this chart's drawing time on a long paper).
    figure = _figure(8, height, layout=None)
    figure.subplots_adjust(left=0.8 / 8, right=1 - 0.15 / 8, top=1 - 0.45 / height,
                           bottom=0.6 / height)
    ax = figure.add_subplot()
    _style(ax, family)
    ax.grid(axis="x", color=LIGHT, linewidth=0.8)
    ax.grid(axis="y", visible=False)
    marks = {}
    bars = []  # (y, left, share, colour, correct, gid): drawn in one call (one call per bar
    # costs most of a long paper's drawing time)
    for row, (qid, answer, options, n) in enumerate(rows):
        y = len(rows) - 1 - row
        left = 0.0
        wrong = 0
        ordered = sorted(options, key=lambda o: (o[0] == "—", o[0]))
        for option, count in ordered:
            share = count / n
            correct = option == answer
            if correct:
                colour = GREEN
            elif option == "—":
                colour = "#f5f5f5"
            else:
                colour = WRONG_SHADES[wrong % len(WRONG_SHADES)]
                wrong += 1
            gid = f"mark-option-{qid}-{option if option != '—' else 'none'}"
            bars.append((y, left, share, colour, correct, gid))
            shown = labels["none"] if option == "—" else names.get(option, option)
            if share >= 0.07:
                # Inside the axes: left out of the layout's sums.
                ax.text(left + share / 2, y, shown + (" ✓" if correct else ""), ha="center",
                        va="center", fontsize=7, family=family, in_layout=False,
                        color="white" if correct else "#222222")
            marks[gid] = {"question": qid, "option": option, "share": _number(share),
                          "count": count, "correct": "true" if correct else "false",
                          "title": labels["question"].replace("%(q)s", qid)
                          + f" {shown}: {count}/{n}"
                          + (f" ({labels['correct']})" if correct else "")}
            left += share
    if bars:
        ys, lefts, shares, colours, corrects, gids = zip(*bars, strict=True)
        drawn = ax.barh(ys, shares, left=lefts, height=0.72, color=colours,
                        edgecolor=["#1b5e20" if c else "white" for c in corrects],
                        linewidth=[1.2 if c else 0.6 for c in corrects])
        for patch, gid in zip(drawn, gids, strict=True):
            patch.set_gid(gid)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([labels["question"].replace("%(q)s", qid)
                        for qid, *_rest in reversed(rows)])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_xlabel(labels["x"], family=family)
    ax.set_title(labels["title"], family=family, fontsize=12)
    ax.tick_params(axis="y", labelsize=7)
    return figure, marks


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


# ----------------------------------------------------------------------------- distributions


@dataclass(frozen=True)
class Distribution:
    """Counts per bin, the same bins for every group: edges[i] ≤ value < edges[i+1] (the last
    bin includes its upper edge)."""

    edges: tuple[float, ...]
    groups: tuple[tuple[str, tuple[int, ...]], ...]  # (group, counts per bin)
    sizes: Mapping[str, int] = field(default_factory=dict)

    def bins(self) -> list[tuple[float, float]]:
        return list(zip(self.edges, self.edges[1:], strict=False))

    def bin_labels(self) -> list[str]:
        return [f"{_number(lo)}–{_number(hi)}" for lo, hi in self.bins()]


def distribution(values_by_group: Sequence[tuple[str, Sequence[float]]],
                 full: float | None = None, bins: int = 10) -> Distribution:
    """Histogram counts with one set of round-width bins from 0 to `full` (or the highest
    value) for every group. Pure."""
    values = [float(v) for _g, vs in values_by_group for v in vs]
    top = max([float(full or 0), *values, 1.0])
    low = min([0.0, *values])
    step = _nice_step(top - low, bins)
    start = math.floor(low / step) * step
    count = max(1, math.ceil((top - start) / step - 1e-9))
    edges = tuple(round(start + i * step, 6) for i in range(count + 1))
    groups = []
    for group, vs in values_by_group:
        counts = [0] * count
        for v in vs:
            index = min(count - 1, max(0, int((float(v) - start) // step)))
            counts[index] += 1
        groups.append((group, tuple(counts)))
    return Distribution(edges, tuple(groups), {g: len(vs) for g, vs in values_by_group})


def score_distribution(columns: Sequence[tuple[str, Distribution]], labels: Mapping[str, str],
                       fmt: str = "svg") -> Chart:
    """Small multiples: a row per group, a column per score (e.g. theory, total), one set of
    bins per column and one count axis for all. labels: title, x, y, n ("%(n)s")."""
    inputs = {"columns": [(name, d.edges, d.groups) for name, d in columns],
              "labels": dict(labels)}
    return _cached("distribution", inputs, fmt, lambda: _draw_distribution(columns, labels))


def _draw_distribution(columns, labels):
    family = _family()
    groups = [g for g, _c in columns[0][1].groups] if columns else []
    rows = max(1, len(groups))
    figure = _figure(4.2 * max(1, len(columns)), 1.3 + 1.9 * rows)
    axes = figure.subplots(rows, max(1, len(columns)), squeeze=False, sharey=True)
    top = max([c for _n, d in columns for _g, counts in d.groups for c in counts] + [1])
    marks = {}
    for col, (name, dist) in enumerate(columns):
        widths = [hi - lo for lo, hi in dist.bins()]
        for row, (group, counts) in enumerate(dist.groups):
            ax = axes[row][col]
            _style(ax, family)
            drawn = ax.bar(dist.edges[:-1], counts, width=widths, align="edge",
                           color=BLUE if col == 0 else ORANGE, edgecolor="white",
                           linewidth=0.8)
            for index, ((lo, hi), count) in enumerate(zip(dist.bins(), counts, strict=True)):
                gid = f"mark-bin-{col}-{row}-{index}"
                drawn[index].set_gid(gid)
                if count:
                    ax.text(lo + widths[index] / 2, count, str(count), ha="center",
                            va="bottom", fontsize=7, family=family, in_layout=False)
                marks[gid] = {"column": name, "group": group, "low": _number(lo),
                              "high": _number(hi), "count": count,
                              "title": f"{group} · {name} {_number(lo)}–{_number(hi)}: {count}"}
            ax.set_xlim(dist.edges[0], dist.edges[-1])
            ax.set_xticks(dist.edges[::2] if len(dist.edges) > 12 else dist.edges)
            ax.set_ylim(0, top * 1.18)
            n = labels["n"].replace("%(n)s", str(dist.sizes.get(group, sum(counts))))
            heading = f"{group} · {name} ({n})" if group else f"{name} ({n})"
            ax.set_title(heading, family=family, fontsize=10)
            if col == 0:
                ax.set_ylabel(labels["y"], family=family)
            if row == len(dist.groups) - 1:
                ax.set_xlabel(labels["x"], family=family)
            ax.yaxis.get_major_locator().set_params(integer=True)
    figure.suptitle(labels["title"], family=family, fontsize=12)
    return figure, marks


# ----------------------------------------------------------------------------- the hall's progress


def hall_progress(series: Sequence[tuple[str, Sequence[int]]], ticks: Sequence[tuple[int, str]],
                  labels: Mapping[str, str], fmt: str = "svg") -> Chart:
    """Per minute of a part: the first series (answers saved) on top, the others (hand-ins)
    stacked below. `ticks`: (minute, "HH:MM") along the time axis. labels: title, x,
    y_top, y_bottom."""
    inputs = {"series": [(name, list(counts)) for name, counts in series],
              "ticks": list(ticks), "labels": dict(labels)}
    return _cached("progress", inputs, fmt, lambda: _draw_progress(series, ticks, labels))


def _draw_progress(series, ticks, labels):
    family = _family()
    figure = _figure(9, 5)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    marks = {}
    minutes = max([len(c) for _n, c in series] + [1])
    for ax in (top, bottom):
        _style(ax, family)
    from matplotlib.patches import Patch

    (first_name, first), rest = series[0], series[1:]
    _minute_bars(top, first, [0] * minutes, first_name, BLUE, marks, "answers")
    top.set_ylabel(labels["y_top"], family=family)
    base = [0] * minutes
    handles = []
    for index, (name, counts) in enumerate(rest):
        colour = (ORANGE, GREEN, GREY)[index % 3]
        _minute_bars(bottom, counts, base, name, colour, marks, f"s{index}")
        base = [b + (counts[m] if m < len(counts) else 0) for m, b in enumerate(base)]
        handles.append(Patch(color=colour, label=name))
    bottom.set_ylabel(labels["y_bottom"], family=family)
    legend = {"prop": {"family": family, "size": 8}, "frameon": False}
    if handles:
        bottom.legend(handles=handles, loc="best", **legend)
    top.legend(handles=[Patch(color=BLUE, label=first_name)], loc="best", **legend)
    for ax in (top, bottom):
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_xlim(-0.5, minutes - 0.5)
    bottom.set_xticks([m for m, _t in ticks])
    bottom.set_xticklabels([t for _m, t in ticks])
    bottom.set_xlabel(labels["x"], family=family)
    top.set_title(labels["title"], family=family, fontsize=12)
    return figure, marks


def _minute_bars(ax, counts, bottoms, name, colour, marks, key):
    busy = [(minute, count) for minute, count in enumerate(counts) if count]
    if not busy:
        return
    minutes, heights = zip(*busy, strict=True)
    drawn = ax.bar(minutes, heights, bottom=[bottoms[m] for m in minutes], width=0.9,
                   color=colour)
    for patch, (minute, count) in zip(drawn, busy, strict=True):
        gid = f"mark-{key}-{minute}"
        patch.set_gid(gid)
        marks[gid] = {"series": name, "minute": minute, "count": count,
                      "title": f"{name} · {minute}: {count}"}
