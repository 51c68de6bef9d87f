"""The demo files in seed/ are what seed/build.py makes, and they import cleanly."""

import importlib.util
import shutil
from datetime import UTC, datetime
from pathlib import Path

import kiosk.seed

from kiosk.theory_exam.question_bank import read_bank

SEED = Path(kiosk.seed.__file__).parent


def test_seed_files_are_reproducible_from_their_sources(tmp_path):
    copy = tmp_path / "seed"
    shutil.copytree(SEED, copy, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("seed_build", copy / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main()
    for name in ("question_bank.csv", "roster.csv", "event.json"):
        assert (copy / name).read_bytes() == (SEED / name).read_bytes(), name


def test_demo_bank_has_enough_questions_over_every_area():
    result = read_bank((SEED / "question_bank.csv").read_bytes(), "question_bank.csv",
                       datetime.now(UTC))
    questions = result.questions
    assert len(questions) >= 150
    assert result.warnings == []  # no duplicate stems
    assert sum(q.type == "single" for q in questions) >= 100
    assert sum(q.type == "tf" for q in questions) >= 50
    categories = {q.category for q in questions}
    assert {"职业道德与法规", "数据采集与处理", "数据标注", "模型训练", "模型评估",
            "系统部署与运维", "大模型应用"} <= categories
    # The key is spread over the letters, not always A.
    letters = {q.answer for q in questions if q.type == "single"}
    assert letters == {"A", "B", "C", "D"}
