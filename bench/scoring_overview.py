"""How long the chief judge's scoring overview takes once the theory exam is over.

500 stations (by default) each answer every question of a 60-question paper, the exam ends, then
the overview's computation (`totals.live_results`: grade every paper, join the marks) is timed
several times, with the bare queries it cannot beat beside it: reading every saved answer once.

    python bench/scoring_overview.py [--stations 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from exam_load import ACTOR, prepare

from kiosk import clock
from kiosk.results import totals
from kiosk.stations import phases
from kiosk.theory_exam import exam
from kiosk.theory_exam.models import CurrentAnswer, Paper


def answer_everything(instance, started) -> int:
    """Every station answers every question (the first option), as the kiosks would."""
    saved = 0
    with instance.session() as session:
        papers = list(session.scalars(select(Paper)))
        for paper in papers:
            for seq, (qid, entry) in enumerate(paper.key_map.items(), start=1):
                exam.save_answer(session, paper.station_id, qid, next(iter(entry["keys"])),
                                 seq, now=started, grace=timedelta(seconds=2))
                saved += 1
    return saved


def timed(work, repeat: int) -> list[float]:
    spent = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        spent.append(time.perf_counter() - began)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance, _ = prepare(Path(tmp), args.stations)
        with instance.session() as session:
            phases.start(session, "theory", 20, actor=ACTOR, now=clock.now())
        began = time.perf_counter()
        saved = answer_everything(instance, clock.now())
        print(f"{saved} answers saved by {args.stations} stations in "
              f"{time.perf_counter() - began:.1f} s")
        with instance.session() as session:
            phases.end(session, "theory", actor=ACTOR, now=clock.now())

        def overview():
            with instance.session() as session:
                totals.live_results(session, theory_weight=Decimal(15), now=clock.now())

        def bare_read():
            with instance.session() as session:
                session.execute(select(CurrentAnswer.station_id, CurrentAnswer.question_id,
                                       CurrentAnswer.choice)).all()

        view = timed(overview, args.repeat)
        floor = timed(bare_read, args.repeat)
        print(f"scoring overview (grade {args.stations} papers, join marks): "
              f"min {min(view):.3f} s, max {max(view):.3f} s over {args.repeat} views")
        print(f"ceiling, reading every saved answer once: min {min(floor):.3f} s")


if __name__ == "__main__":
    main()
