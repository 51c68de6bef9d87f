"""The sealed export: anyone can check it offline, and any change is named."""

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from kiosk.cli import main
from kiosk.collect.export import verify_bundle
from tests.factories import csrf_from, follow_job, login, make_user
from tests.plugins.collect import upload


@pytest.fixture
def bundle(hall, kiosk_instance, tmp_path):
    _, _, (first, second) = hall
    upload(first, b"first work")
    upload(first, b"first work, version 2")
    upload(second, "第二位的作品".encode())
    out = tmp_path / "bundle"
    result = CliRunner().invoke(main, ["--instance", str(kiosk_instance.path), "export",
                                       "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output)


def test_an_intact_bundle_verifies_with_the_cli(bundle):
    out, exported = bundle
    assert exported["hand_ins"] == 3
    ok = CliRunner().invoke(main, ["verify", str(out), "--fingerprint", exported["fingerprint"]])
    assert ok.exit_code == 0, ok.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [r["station"] for r in manifest["hand_ins"]] == ["A01", "A01", "A02"]
    assert (out / "manifest.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out / "seal-record.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "封存记录" in text and exported["manifest_sha256"] in "".join(text.split())


def _flip(path, offset=200):
    data = bytearray(path.read_bytes())
    data[min(offset, len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_an_archive_is_named(bundle):
    out, _ = bundle
    archive = sorted((out / "archives").iterdir())[1]
    _flip(archive)
    assert verify_bundle(out) == [f"changed: archives/{archive.name}"]


def test_a_changed_manifest_or_signature_is_caught(bundle):
    out, _ = bundle
    _flip(out / "manifest.json", 50)
    assert any("signature" in p for p in verify_bundle(out))


def test_a_forged_signature_is_caught(bundle):
    out, _ = bundle
    sig = (out / "manifest.sig").read_text().strip()
    (out / "manifest.sig").write_text(("A" if sig[5] != "A" else "B").join([sig[:5], sig[6:]]))
    assert any("signature" in p for p in verify_bundle(out))


def test_missing_and_added_files_are_named(bundle):
    out, _ = bundle
    gone = sorted((out / "archives").iterdir())[0]
    gone.unlink()
    (out / "archives" / "intruder.age").write_bytes(b"age")
    problems = verify_bundle(out)
    assert f"missing: archives/{gone.name}" in problems
    assert "added: archives/intruder.age" in problems
    result = CliRunner().invoke(main, ["verify", str(out)])
    assert result.exit_code == 1


def test_another_key_is_refused_when_the_fingerprint_is_given(bundle):
    out, _ = bundle
    assert verify_bundle(out, expected_fingerprint="0000 1111") != []


def test_the_encryption_judges_export_page_and_the_slip_layouts(hall, app):
    import io

    from pypdf import PdfReader


    instance, _, (kiosk, _) = hall
    number = upload(kiosk, b"for the page").get_json()["receipt_no"]
    roll = PdfReader(io.BytesIO(kiosk.get(
        f"/api/v1/collect/receipts/{number}.pdf?layout=roll").data)).pages[0]
    assert round(float(roll.mediabox.width)) == 227  # 80 mm
    with instance.session() as session:
        make_user(session, "crypt1", username="judge_one")
        make_user(session, "field", username="field_one")
    judge = app.test_client()
    login(judge, "judge_one")
    page = judge.get("/collect/export")
    started = judge.post("/collect/export", data={"csrf_token": csrf_from(page.text)})
    listing = judge.get(follow_job(judge, started)).text
    assert "handin-" in listing and "✓" in listing
    name = next(instance.exports_dir.glob("handin-*")).name
    assert judge.get(f"/collect/export/{name}/seal-record.pdf").mimetype == "application/pdf"
    field_judge = app.test_client()
    login(field_judge, "field_one")
    poster = field_judge.get("/collect/poster.pdf")
    assert poster.mimetype == "application/pdf"
    assert field_judge.get("/collect/export").status_code == 403


def test_the_export_runs_as_a_job_that_only_its_judge_follows(hall, app):
    kiosk_instance, _, (kiosk, _) = hall
    upload(kiosk, b"x" * 3_000_000)
    with kiosk_instance.session() as session:
        make_user(session, "crypt1", username="judge_one")
        make_user(session, "crypt2", username="judge_two")
    judge, other = app.test_client(), app.test_client()
    login(judge, "judge_one")
    login(other, "judge_two")
    started = judge.post("/collect/export", data={
        "csrf_token": csrf_from(judge.get("/collect/export").text)})
    assert started.status_code == 302 and "job=" in started.location
    job_id = started.location.split("job=")[1]
    # The other judge sees neither the job nor its progress.
    assert other.get(f"/jobs/{job_id}").status_code == 404
    done = judge.get(follow_job(judge, started)).text
    state = judge.get(f"/jobs/{job_id}").get_json()
    assert state["finished"] and not state["failed"]
    assert state["stage_text"] == "复制归档文件"
    assert state["done"] == state["total"] > 3_000_000  # every archive's bytes, counted
    assert "已将 1 份作品导出到" in done, done


def test_the_export_page_hashes_nothing_on_a_view_and_checks_on_request(hall, app,
                                                                      monkeypatch):
    from kiosk.collect import export

    kiosk_instance, _, (kiosk, _) = hall
    upload(kiosk, b"work to check")
    with kiosk_instance.session() as session:
        make_user(session, "crypt1", username="judge_one")
    judge = app.test_client()
    login(judge, "judge_one")
    started = judge.post("/collect/export", data={
        "csrf_token": csrf_from(judge.get("/collect/export").text)})
    follow_job(judge, started)
    hashed = []
    real = export._sha256_file
    monkeypatch.setattr(export, "_sha256_file", lambda *a, **k: hashed.append(a) or real(*a, **k))
    assert "✓" in judge.get("/collect/export").text
    assert hashed == []  # a reload of the page reads no archive
    bundle = next(kiosk_instance.exports_dir.glob("handin-*"))
    _flip(next((bundle / "archives").iterdir()))
    listing = judge.get("/collect/export").text
    assert "服务器启动后尚未校验" in listing and "✓" not in listing
    checked = judge.post(f"/collect/export/{bundle.name}/check",
                         data={"csrf_token": csrf_from(listing)})
    listing = judge.get(follow_job(judge, checked)).text
    assert "changed: archives/" in listing and len(hashed) == 1


def test_a_manifest_naming_files_outside_the_bundle_is_refused_unread(bundle, monkeypatch):
    """A bundle checked may come from anywhere: a row naming /dev/zero (read forever) or a file
    beside the bundle is a problem, and nothing outside archives/ is opened."""
    from kiosk.collect import export

    out, _ = bundle
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    manifest["hand_ins"][0]["file"] = "/dev/zero"
    manifest["hand_ins"][1]["file"] = "archives/../../secret"
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    opened = []
    real = export._sha256_file
    monkeypatch.setattr(export, "_sha256_file",
                        lambda path, *a: opened.append(path) or real(path, *a))
    problems = verify_bundle(out)
    assert "not a file of the bundle: /dev/zero" in problems
    assert "not a file of the bundle: archives/../../secret" in problems
    assert all(path.parent == out / "archives" for path in opened) and len(opened) == 1


def test_the_bundle_being_written_is_not_listed_until_it_is_complete(hall, app, monkeypatch):
    import threading

    from kiosk.collect import export

    kiosk_instance, _, (kiosk, _) = hall
    upload(kiosk, b"work being exported")
    with kiosk_instance.session() as session:
        make_user(session, "crypt1", username="judge_one")
    judge = app.test_client()
    login(judge, "judge_one")
    copying, go = threading.Event(), threading.Event()
    real = export._copy_hashed

    def slow_copy(*args):
        copying.set()
        go.wait(30)
        return real(*args)

    monkeypatch.setattr(export, "_copy_hashed", slow_copy)
    started = judge.post("/collect/export", data={
        "csrf_token": csrf_from(judge.get("/collect/export").text)})
    assert copying.wait(30)
    during = judge.get(started.location).text
    assert "正在导出" in during and "exports/handin-" not in during
    go.set()
    after = judge.get(follow_job(judge, started)).text
    assert "exports/handin-" in after and "✓" in after
