"""The audit log as a supervisor reads it: actions in words, details as labelled values, a
co-signature shown as one (issue 15, item 8)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from kiosk import clock, staff
from kiosk.instance import open_instance
from tests.e2e.pages import screenshot, sign_in

pytestmark = pytest.mark.e2e


def _cosign(demo):
    """The supervisor confirms in person, as at the unsealing (staff.cosign, not a login)."""
    supervisor = next(u for u in demo["users"] if u["role"] == "supervisor")
    instance = open_instance(demo["path"])
    try:
        with instance.session() as session:
            staff.cosign(session, supervisor["username"], supervisor["password"],
                         role="supervisor", address="127.0.0.1", device=None, now=clock.now(),
                         limit_per_minute=100)
    finally:
        instance.engine.dispose()


def test_the_audit_log_reads_in_chinese_without_raw_json(page, demo_server):
    _cosign(demo_server)
    sign_in(page, demo_server, role="chief")
    page.goto(demo_server["url"] + "/audit")
    login = page.locator("tr[data-action='staff.login']").first
    expect(login.locator("td").nth(4)).to_have_text("登录")
    expect(login.locator("td.details")).to_contain_text("地址")
    cosign = page.locator("tr[data-action='staff.cosign']").first
    expect(cosign.locator("td").nth(4)).to_have_text("会签确认")
    expect(cosign.locator("td").nth(3)).to_have_text("监督人员")
    table = page.locator("table.grid tbody").inner_text()
    assert "{" not in table and "}" not in table and '":' not in table
    assert "staff.login" not in table and "roster.imported" not in table
    expect(page.locator("tr[data-action='roster.imported'] td").nth(4)).to_have_text(
        "导入选手名单")
    screenshot(page, "audit-log-details")
    results = Axe().run(page)
    serious = [v for v in results.response["violations"]
               if v["impact"] in ("critical", "serious")]
    assert serious == [], [v["id"] for v in serious]
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "audit-log-details-1920")


def test_the_action_filter_finds_what_the_page_calls_it(page, demo_server):
    """Typing the words the log shows (or picking them from the suggestions) filters by them."""
    sign_in(page, demo_server, role="supervisor")
    page.goto(demo_server["url"] + "/audit")
    field = page.get_by_label("操作", exact=True)
    assert "导入选手名单" in [o.get_attribute("value") for o in
                          page.locator("#audit-actions option").all()]
    field.fill("导入选手名单")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("tbody tr[data-action]")
    expect(rows.first).to_be_visible()
    assert {r.get_attribute("data-action") for r in rows.all()} == {"roster.imported"}
    expect(field).to_have_value("导入选手名单")
    screenshot(page, "audit-filter-by-label")
