"""逐层解密 and the final results: gated on the lock, stage 2 before 1, a supervisor present,
names nowhere before."""

import json
from decimal import Decimal

import pytest
from pypdf import PdfReader

from kiosk import clock
from kiosk.errors import Conflict, Forbidden, KioskError
from kiosk.results import final, review, submission, unsealing
from tests.actors import CHIEF, CRYPT1, CRYPT2, SUPERVISOR
from tests.factories import make_checkpoint
from tests.plugins.results import WEIGHT


def locked(day, marks=None):
    day.marks(marks or {code: str(60 + i % 5) for i, code in enumerate(day.stations)})
    review.draw_sample(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())
    for _, code in review.items(day.session):
        review.record_outcome(day.session, code, correct=True, actor=SUPERVISOR,
                              now=clock.now())
    return submission.lock(day.session, theory_weight=WEIGHT, actor=CHIEF, now=clock.now())


def open_layer(day, stage, role=None):
    return unsealing.open_layer(day.session, stage, [day.event.keys[f"crypt{stage}"]],
                                actor=CRYPT1 if stage == 1 else CRYPT2, supervisor="sup",
                                now=clock.now(), actor_role=role)


def test_nothing_opens_before_the_results_are_locked(day):
    day.marks(dict.fromkeys(day.stations, "70"))
    with pytest.raises(Conflict, match="locked"):
        open_layer(day, 2)
    with pytest.raises(Conflict, match="not locked"):
        final.final_results(day.session)


def test_layer_by_layer_by_its_own_judge_with_a_supervisor(day):
    locked(day)
    with pytest.raises(Conflict, match="is opened next"):
        open_layer(day, 1)
    with pytest.raises(Forbidden):
        open_layer(day, 2, role="crypt1")
    with pytest.raises(KioskError, match="supervisor"):
        unsealing.open_layer(day.session, 2, [day.event.keys["crypt2"]], actor=CRYPT2,
                             supervisor="", now=clock.now())
    with pytest.raises(KioskError, match="do not open"):
        unsealing.open_layer(day.session, 2, [day.event.keys["crypt1"]], actor=CRYPT2,
                             supervisor="sup", now=clock.now())
    stage2 = open_layer(day, 2, role="crypt2")
    assert stage2.verified and stage2.supervisor == "sup"
    # After stage 2: contestant numbers, still no names.
    assert all(link["name"] is None for link in unsealing.links(day.session).values())
    assert final.final_results(day.session).sealed
    stage1 = open_layer(day, 1, role="crypt1")
    assert stage1.verified
    linked = {code: link["id_number"] for code, link in unsealing.links(day.session).items()}
    assert linked == day.truth
    with pytest.raises(Conflict, match="already open"):
        open_layer(day, 1)
    with pytest.raises(Conflict, match="unsealed"):
        submission.unlock(day.session, "想改分", actor=CHIEF, now=clock.now())


def test_names_appear_nowhere_before_the_unsealing(day):
    locked(day)
    sealed = final.final_results(day.session)
    data = final.results_json(sealed)
    names = [p.name for p in day.event.people]
    ids = [p.id_number for p in day.event.people]
    blob = json.dumps(data, ensure_ascii=False)
    assert data["sealed"] and [g["group"] for g in data["groups"]] == [None]
    assert not any(name in blob or number in blob for name, number in zip(names, ids,
                                                                          strict=True))
    assert all(r["award"] is None and r["name"] is None for r in data["groups"][0]["ranking"])
    pdf = final.results_pdf(sealed, event_name="测试", session_name="第一场", now=clock.now(),
                            theory_weight=WEIGHT, practical_full=Decimal(85),
                            checkpoint=make_checkpoint(day.session))
    text = "".join(page.extract_text() for page in PdfReader(_io(pdf)).pages)
    assert "赛位号成绩表" in text and not any(name in text for name in names)
    xlsx = final.results_xlsx(sealed, event_name="测试")
    assert not any(name.encode() in _xlsx_text(xlsx) for name in names)


def test_the_final_ranking_per_group_with_awards_and_the_signed_sheet(day):
    lock = locked(day)
    open_layer(day, 2)
    open_layer(day, 1)
    result = final.final_results(day.session)
    data = final.results_json(result)
    assert not data["sealed"] and data["sha256"] == lock.sha256
    groups = {g["group"]: g["ranking"] for g in data["groups"]}
    assert set(groups) == {"职工组", "学生组"}
    people = {p.id_number: p for p in day.event.people}
    for group, ranking in groups.items():
        assert len(ranking) == 6
        assert all(people[r["id_number"]].group == group for r in ranking)
        assert set(ranking[0]) == {"rank", "station", "contestant_no", "name", "id_number",
                                   "theory", "practical", "total", "deduction", "award"}
        assert [r["total"] for r in ranking] == sorted((r["total"] for r in ranking),
                                                       reverse=True)
        # 6 contestants: first prize round(0.6) = 1 place, second up to round(1.8) = 2,
        # third up to round(3.6) = 4 (unless ties move a boundary).
        assert ranking[0]["award"] == "一等奖" and ranking[-1]["award"] is None
    pdf = final.results_pdf(result, event_name="测试赛", session_name="第一场", now=clock.now(),
                            theory_weight=WEIGHT, practical_full=Decimal(85),
                            checkpoint=make_checkpoint(day.session))
    reader = PdfReader(_io(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2  # one part per group
    assert "成绩汇总表（职工组）" in text and "成绩汇总表（学生组）" in text
    for signer in ("裁判长签字", "监督人员签字", "记分员（一）签字", "记分员（二）签字"):
        assert signer in text
    assert lock.sha256 in "".join(text.split())  # in groups of 8
    assert day.event.people[0].name in text
    # The posted sheet leaves the ID numbers off; the xlsx for the organisers keeps them.
    assert day.event.people[0].id_number not in text
    assert day.event.people[0].id_number.encode() in _xlsx_text(final.results_xlsx(
        result, event_name="测试赛"))


def _io(data):
    import io

    return io.BytesIO(data)


def _xlsx_text(data):
    import zipfile

    with zipfile.ZipFile(_io(data)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist()
                        if name.endswith(".xml"))
