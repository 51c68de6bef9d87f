"""How long printing badges takes: 500 stations, the issue's target is under 10 s.

    python bench/badges.py [--stations 500]

Prints the time to issue tokens (HMAC + one transaction), to render the PDF, and the ceiling of
the PDF library itself: the same pages with the same text but without QR codes.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kiosk import clock
from kiosk.audit import Actor
from kiosk.checkin.badges import render_badges
from kiosk.instance import init_instance
from kiosk.stations.registry import add_stations
from kiosk.stations.sign_in import issue_badges


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        instance = init_instance(Path(folder) / "bench")
        with instance.session() as session:
            stations = add_stations(session, args.stations, prefix="A", first_ip=None,
                                    actor=Actor("bench"), now=clock.now())
            started = time.perf_counter()
            secrets = issue_badges(session, stations, badge_key=instance.badge_key(),
                                   actor=Actor("bench"), now=clock.now())
            issued = time.perf_counter() - started
        started = time.perf_counter()
        pdf = render_badges(secrets, event_name="2026年职业技能大赛·人工智能训练师赛项",
                            session_name="第一场")
        rendered = time.perf_counter() - started

        import kiosk.checkin.badges as badges

        original = badges.draw_qr
        badges.draw_qr = lambda *a, **k: None  # the ceiling: text and marks only
        started = time.perf_counter()
        render_badges(secrets, event_name="2026年职业技能大赛·人工智能训练师赛项",
                      session_name="第一场")
        ceiling = time.perf_counter() - started
        badges.draw_qr = original
        instance.engine.dispose()
    pages = -(-args.stations // (badges.COLUMNS * badges.ROWS))
    print(f"badges: {args.stations} stations, {pages} A4 pages, {len(pdf) / 1024:.0f} KiB")
    print(f"  issue tokens (HMAC, one transaction): {issued:6.2f} s")
    print(f"  render PDF with QR codes:             {rendered:6.2f} s   (target < 10 s)")
    print(f"  reportlab ceiling, same pages no QR:  {ceiling:6.2f} s")


if __name__ == "__main__":
    main()
