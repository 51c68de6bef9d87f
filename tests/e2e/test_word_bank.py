"""The chief judge imports the organisers' Word bank on 题库 (issue 20, item 1): a damaged one is
refused with every problem named by its paragraph, nothing imported; the sample imports whole."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import assert_accessible, screenshot, sign_in
from tests.servers import served_demo
from tests.theory_exam.bank_docx import paragraphs_docx

pytestmark = pytest.mark.e2e

SEED = Path(__file__).resolve().parents[2] / "seed"

DAMAGED = (
    "2026年职业技能大赛·人工智能训练师赛项 理论知识题库",        # 1
    "一、单项选择题（每题1分）",                                # 2
    "1．下列哪项属于监督学习任务？（  ）",                        # 3
    "A．聚类\tB．图像分类",                                    # 4
    "C．降维\tD．关联规则",                                    # 5
    "答案：B",                                              # 6
    "2．标注规范存在歧义时，最恰当的做法是（  ）",                  # 7
    "A．按自己的理解继续标注\tB．暂停并向项目负责人反馈",            # 8
    "3．训练集、验证集和测试集的划分应当（  ）",                    # 9
    "A．随机且互不重叠\tC．全部相同\tB．只留训练集",                 # 10
    "答案：A",                                              # 11
    "3．模型在训练集上很好、在测试集上很差，说明（  ）",              # 12
    "A．欠拟合\tB．过拟合",                                    # 13
    "答案：E",                                              # 14
    "二、多项选择题（每题2分）",                                # 15
    "1．下列属于数据清洗的有（  ）",                              # 16
    "A．去重\tB．补全缺失值\tC．改写标签",                        # 17
    "答案：AB",                                             # 18
    "三、判断题（每题1分）",                                    # 19
    "1．数据清洗可以发现并纠正数据中的错误。（√）",                  # 20
    "2．标注质检只需检查第一批数据。",                             # 21
)


@pytest.fixture
def demo(tmp_path):
    with served_demo(tmp_path / "word-bank") as served:
        yield served


def test_a_word_bank_on_the_bank_page(browser, demo, tmp_path):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = sign_in(context.new_page(), demo, username="chief")
    page.goto(demo["url"] + "/bank")
    before = page.locator("h1 + p.muted").inner_text()
    damaged = tmp_path / "理论题库（待核对）.docx"
    damaged.write_bytes(paragraphs_docx(*DAMAGED))
    page.set_input_files("input[name=file]", str(damaged))
    page.get_by_role("button", name="导入", exact=True).click()
    problems = page.locator(".problems")
    expect(problems).to_be_visible()
    expect(problems.locator("h3")).to_have_text("未导入任何数据：共 6 处问题")
    rows = problems.locator("tbody tr")
    expect(rows).to_have_count(6)
    # Each problem names its paragraph (and question) as Word shows them; English until the
    # catalog has the new messages, Chinese after.
    expected = [(7, 2), (10, 3), (12, 3), (12, 3), (15, None), (21, 2)]
    for row, (paragraph, question) in zip(rows.all(), expected, strict=True):
        if question:
            where = rf"(paragraph {paragraph} \(question {question}\)|第 {paragraph} 段（第 " \
                    rf"{question} 题）)"
        else:
            where = rf"(paragraph {paragraph}|第 {paragraph} 段)"
        assert re.match(where, row.inner_text()), row.inner_text()
    expect(rows.nth(4)).to_contain_text("多项选择题")
    assert page.locator("h1 + p.muted").inner_text() == before  # nothing imported
    assert_accessible(page)
    problems.scroll_into_view_if_needed()
    screenshot(page, "bank-word-problems")

    page.set_input_files("input[name=file]", str(SEED / "question_bank_sample.docx"))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("已导入 187 道试题")
    expect(page.locator(".problems")).to_have_count(0)
    page.fill("input[name=q]", "从业务数据库中批量导出订单数据")
    page.get_by_role("button", name="筛选").click()
    card = page.locator("article.bank-item").last  # the demo has it from the .csv too
    expect(card).to_contain_text("（  ）")
    expect(card.locator("li.key")).to_contain_text("SQL")
    expect(card).to_contain_text("解析（仅裁判可见）")
