"""The timetables shipped in seed/timetables/ are the days of the competitions in the seeds
(/work/shared/seeds: 000 times its practical exam module by module, 001 runs theory then one
block), and each is a file `kiosk timetable set` takes as it is."""

from pathlib import Path

import kiosk.seed
import pytest

from kiosk.config import Settings
from kiosk.stations import timetable

TIMETABLES = Path(kiosk.seed.__file__).parent / "timetables"
GENAI = TIMETABLES / "hubei_genai_2025.toml"  # seed 000
EDGE_AI = TIMETABLES / "qiangguo_edge_ai_2024.toml"  # seed 001


def _parts(path: Path) -> list[timetable.Part]:
    return timetable.parse(path.read_bytes(), path.name, Settings())


def test_both_seed_competitions_ship_a_timetable():
    shipped = sorted(p.name for p in TIMETABLES.glob("*.toml"))
    assert {GENAI.name, EDGE_AI.name} <= set(shipped)


@pytest.mark.parametrize("path", sorted(TIMETABLES.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_timetable_parses_and_its_warnings_come_before_the_end(path):
    found = _parts(path)
    assert found
    for part in found:
        assert all(0 < w < part.minutes for w in part.warnings), part.key
    # The theory exam, if any, is the part the exam knows (`kiosk phase start theory`).
    assert all(p.key == timetable.THEORY_KEY for p in found if p.kind == "theory")


def test_seed_000_times_modules_a_b_c_each_with_its_hand_in_and_the_15_minute_warning():
    found = _parts(GENAI)
    assert [(p.key, p.name, p.kind, p.minutes, p.hand_in) for p in found] == [
        ("A", "模块A：生成式人工智能系统数据处理", "practical", 60, True),
        ("B", "模块B：生成式人工智能系统模型训练", "practical", 90, True),
        ("C", "模块C：生成式人工智能系统部署与维护", "practical", 90, True),
    ]
    # 裁判长在竞赛结束前 15 分钟对选手做出提示.
    assert [p.warnings for p in found] == [(15,), (15,), (15,)]
    # 9:00–13:00 比赛: the three modules fill the four hours.
    assert sum(p.minutes for p in found) == 240
    # 赛前10分钟领取赛题: the first module's task book ten minutes before its start; the next
    # modules follow without a gap, so theirs come at their start (not during the module before).
    assert [p.reading_minutes for p in found] == [10, 0, 0]
    # 模块D (安全意识与职业素养) is scored throughout, not a timed part; no theory exam.
    assert not any("模块D" in p.name or p.kind == "theory" for p in found)


def test_seed_001_runs_a_20_minute_theory_exam_then_one_160_minute_block():
    found = _parts(EDGE_AI)
    assert [(p.key, p.kind, p.minutes, p.hand_in) for p in found] == [
        ("theory", "theory", 20, False),   # 理论试卷答题限时二十分钟
        ("practical", "practical", 160, True),  # 实操技能考核总用时两小时四十分钟
    ]
    assert "理论知识考试" in found[0].name
    assert "实操技能考核" in found[1].name
    assert all(m in found[1].name for m in ("模块二", "模块三", "模块四"))
    assert [p.reading_minutes for p in found] == [0, 0]
