"""The fault run of bench/hall_day.py, small enough for CI: stations saving at pace and others
uploading while the server is SIGKILLed at random moments and restarted. Afterwards every
acknowledged answer and upload must be in the database and on disk, with no partial file and
the deadlines unchanged (the script exits non-zero on any loss)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "hall_day.py"


def test_sigkills_during_saves_and_uploads_lose_nothing_acknowledged(tmp_path):
    run = subprocess.run([sys.executable, str(BENCH), "--stations", "40", "--uploaders", "4",
                          "--upload-mb", "8", "--seconds", "10", "--kill-every", "3",
                          "--lan-mbit", "40", "--threads", "8", "--no-ceiling",
                          "--tmp", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    report = run.stdout
    assert "kills 0" not in report  # the server really was killed
    assert ", 0 lost;" in report and "0 missing, 0 with a wrong hash" in report
    assert "deadlines unchanged" in report
