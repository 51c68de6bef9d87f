"""What a chart costs (kiosk/charts.py), beside reading the rows it draws, at the day's size.

    python bench/charts.py [--stations 500] [--repeat 5]

Builds the day of bench/pages.py (N stations, a paper of 60 questions answered at every
station, the theory and practical over, marks entered twice), then, in the same run:
- per chart (the item statistics' scatter and option bars, the score distribution per group,
  the hall's progress per minute): reading its rows (the domain function the page calls),
  drawing it (cache empty: min / median / max), drawing it again (cached: the hash only), its
  SVG's size with text as paths (kiosk's choice) and with text as text (svg.fonttype "none"),
  and a PNG of it;
- `kiosk --help` and `import kiosk.app`, beside the import of matplotlib they no longer pay
  (charts import it at their first drawing).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from pages import build  # bench/pages.py: the day at its size

from kiosk import charts, clock
from kiosk.field import progress
from kiosk.instance import open_instance
from kiosk.results import totals
from kiosk.theory_exam import exam

SCATTER = {"title": "各题难度与区分度", "x": "难度（答对率）", "y": "区分度",
           "flag": "低于 0.2：值得复查", "question": "第%(q)s题"}
OPTIONS = {"title": "各题选项分布", "x": "试卷比例", "none": "未答", "question": "第%(q)s题",
           "correct": "正确答案"}
DISTRIBUTION = {"title": "各组别成绩分布", "x": "得分", "y": "人数", "n": "%(n)s 人"}
PROGRESS = {"title": "理论知识考试", "x": "时间", "y_top": "每分钟答题保存",
            "y_bottom": "每分钟交卷与提交"}


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    spent = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        spent.append(time.perf_counter() - began)
    return spent


def ms(spent: list[float]) -> str:
    return (f"{min(spent) * 1000:7.1f} / {statistics.median(spent) * 1000:7.1f} / "
            f"{max(spent) * 1000:7.1f} ms")


def drawn(make: Callable[[str], charts.Chart], repeat: int) -> tuple[list[float], float, int]:
    """Drawing times with an empty cache, the cached time, and the SVG's size."""
    def cold() -> charts.Chart:
        charts.clear_cache()
        return make("svg")

    spent = timed(cold, repeat)
    chart = make("svg")
    cached = min(timed(lambda: make("svg"), repeat))
    return spent, cached, len(chart.data)


def as_text_size(make: Callable[[str], charts.Chart]) -> int:
    """The same SVG with text as <text> (the browser would need a CJK font)."""
    from matplotlib import rc_context

    charts.clear_cache()
    with rc_context({"svg.fonttype": "none"}):  # the bench is one thread: global rc is fine
        size = len(make("svg").data)
    charts.clear_cache()
    return size


def startup(repeat: int) -> None:
    def run(*args: str) -> list[float]:
        return timed(lambda: subprocess.run([sys.executable, *args], check=True,
                                            capture_output=True), repeat)

    kiosk = Path(sys.executable).with_name("kiosk")
    print(f"\nstart-up ({repeat} runs; min / median / max):")
    print(f"  kiosk --help                         {ms(run(str(kiosk), '--help'))}")
    print(f"  python -c 'import kiosk.app'         {ms(run('-c', 'import kiosk.app'))}")
    print(f"  python -c 'pass' (the interpreter)   {ms(run('-c', 'pass'))}")
    print("  python -c 'import matplotlib + Figure + SVG canvas' (what the lazy import saves) "
          f"{ms(run('-c', 'import matplotlib.figure, matplotlib.backends.backend_svg'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp), args.stations, print)
        instance = open_instance(path)
        with instance.session() as session:
            settings = instance.settings
            weight = Decimal(settings.theory_weight)
            now = clock.now()
            totals.results(session, theory_weight=weight, now=now)  # grades once, as the page
            rows = exam.item_statistics(session)
            items = charts.items_from_statistics(rows)
            current = totals.results(session, theory_weight=weight, now=now)
            shown = progress.hall_progress(session, settings, clock.now(), "theory")

            def distribution(fmt: str) -> charts.Chart:
                values = [("全部赛位", [float(r.theory) for r in current if r.theory],
                           [float(r.total) for r in current if r.total])]
                theory = charts.distribution([(g, t) for g, t, _o in values], 100)
                total = charts.distribution([(g, o) for g, _t, o in values], 100)
                return charts.score_distribution([("理论成绩", theory), ("总分", total)],
                                                 DISTRIBUTION, fmt=fmt)

            def hall(fmt: str) -> charts.Chart:
                ticks = [(m, f"{m}") for m in range(0, shown.minutes, 5)]
                return charts.hall_progress([("答题保存", shown.answers),
                                             ("理论试卷交卷", shown.submissions),
                                             ("作品提交", shown.hand_ins)], ticks, PROGRESS,
                                            fmt=fmt)

            made = [
                (f"item scatter ({len(items)} questions)",
                 lambda: exam.item_statistics(session),
                 lambda fmt: charts.item_scatter(items, SCATTER, fmt=fmt)),
                (f"item options ({len(items)} questions)",
                 lambda: exam.item_statistics(session),
                 lambda fmt: charts.item_options(items, OPTIONS, fmt=fmt)),
                (f"score distribution ({len(current)} stations)",
                 lambda: totals.results(session, theory_weight=weight, now=now), distribution),
                (f"hall progress ({shown.minutes} minutes)",
                 lambda: progress.hall_progress(session, settings, clock.now(), "theory"), hall),
            ]
            charts.item_scatter(items[:3], SCATTER)  # matplotlib imported, fonts found
            print(f"\n{args.stations} stations, {args.repeat} runs each "
                  "(min / median / max; cached: min):")
            for name, read, make in made:
                read_spent = timed(read, args.repeat)
                spent, cached, size = drawn(make, args.repeat)
                text_size = as_text_size(make)
                charts.clear_cache()
                png = timed(lambda make=make: (charts.clear_cache(), make("png")), 1)[0]
                print(f"  {name}")
                print(f"    reading its rows       {ms(read_spent)}")
                print(f"    drawing it (SVG)       {ms(spent)}   PNG once {png * 1000:.0f} ms")
                print(f"    cached                 {cached * 1e6:7.1f} µs")
                print(f"    SVG size               {size / 1024:7.1f} KiB text as paths, "
                      f"{text_size / 1024:.1f} KiB text as text")
        instance.engine.dispose()
    startup(args.repeat)


if __name__ == "__main__":
    main()
