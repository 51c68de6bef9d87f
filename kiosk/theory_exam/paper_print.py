"""The printed papers of the paper fallback (纸质备用试卷): one A4 PDF holding, for each station,
its own paper (its questions in its order, its options in its order) and its answer sheet (答题卡),
every page sealed with the station number and the SHA-256 of the paper's printed content
(`paper_fallback.PrintedPaper.sha256`)."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from kiosk import pdf
from kiosk.errors import N_
from kiosk.progress import NO_PROGRESS, Progress
from kiosk.theory_exam.paper_fallback import PrintedPaper, PrintedQuestion

SECTIONS = {"single": "单选题", "tf": "判断题"}
NUMERALS = "一二三四五六七八九十"
TF_BOXES = "□ 对（√）　　□ 错（×）"
SHEET_COLUMNS = 3  # questions side by side on the answer sheet
ONE_LINE = 36  # characters: options this short together print on one line
TWO_A_LINE = 16  # characters: options each this short print two on a line


def _seal(canvas: Canvas, font: str, paper: PrintedPaper, page: int) -> None:
    """The seal of every page: the station number large at the top right, the paper's hash at
    the foot (Courier, so that every character reads apart)."""
    width, height = pdf.PAGE
    canvas.setFillColor(colors.black)
    canvas.setFont(font, 15)
    canvas.drawRightString(width - 18 * mm, height - 13 * mm, f"赛位号 {paper.station}")
    canvas.setFont(font, 8)
    canvas.drawString(18 * mm, height - 12 * mm, f"理论知识考试纸质试卷　赛位 {paper.station} 第 "
                      f"{page} 页" + (f"　场次 {paper.session}" if paper.session else ""))
    canvas.setFont("Courier", 7.5)
    canvas.drawString(18 * mm, 17.5 * mm,
                      f"{paper.station} SHA-256 {pdf.hex_groups(paper.sha256)}")
    canvas.setFont(font, 6.5)
    canvas.setFillColor(colors.grey)
    canvas.drawString(18 * mm, 14.5 * mm, "试卷哈希：核对时运行 kiosk paper hashes，与服务器上的"
                      "试卷逐字比对")


def _question(question: PrintedQuestion, st: pdf.Styles) -> Flowable:
    option = ParagraphStyle("option", parent=st.body, leftIndent=7 * mm)
    parts = [pdf.para(f"{question.number}. {question.stem}（{question.points}分）", st.body)]
    if question.type == "tf":
        parts.append(pdf.para("（　　）对 √ / 错 ×", option))
    else:
        texts = [f"{letter}. {text}" for letter, text in question.options]
        per_line = len(texts) if sum(map(len, texts)) <= ONE_LINE else \
            2 if max(map(len, texts)) <= TWO_A_LINE else 1
        parts += [pdf.para("　　".join(texts[at:at + per_line]), option)
                  for at in range(0, len(texts), per_line)]
    parts.append(Spacer(1, 2 * mm))
    return KeepTogether(parts)


def _answer_sheet(paper: PrintedPaper, font: str, st: pdf.Styles) -> list[Flowable]:
    """答题卡: the station number, a row of boxes per question, the signatures."""
    story: list[Flowable] = [
        pdf.para("答题卡", st.title),
        pdf.para(f"赛位号：{paper.station}" + (f"　场次：{paper.session}" if paper.session else "")
                 + f"　满分：{paper.full_marks}", st.subtitle),
        pdf.para("在所选答案前的方框内打 √；每题只选一个答案，改选时将原选项划掉并在旁边"
                 "写明所选字母。只评答题卡，试卷上的作答不计分。", st.body),
        Spacer(1, 3 * mm)]
    cells = []
    for question in paper.questions:
        boxes = TF_BOXES if question.type == "tf" else \
            "　".join(f"□ {letter}" for letter, _text in question.options)
        cells.append([str(question.number), boxes])
    rows = [["题号", "答案"] * SHEET_COLUMNS]
    per_column = -(-len(cells) // SHEET_COLUMNS)
    for index in range(per_column):
        row = []
        for column in range(SHEET_COLUMNS):
            at = column * per_column + index
            row += cells[at] if at < len(cells) else ["", ""]
        rows.append(row)
    half = pdf.TABLE_WIDTH / SHEET_COLUMNS
    story.append(pdf.signed(
        pdf.table(rows, [half * 0.2, half * 0.8] * SHEET_COLUMNS, font, row_height=7.5 * mm),
        Spacer(1, 6 * mm), pdf.signature_block(["选手（赛位号）确认", "现场裁判签字"], font)))
    return story


def _paper(paper: PrintedPaper, stamp: pdf.PageStamp, font: str, st: pdf.Styles,
           event_name: str) -> list[Flowable]:
    story: list[Flowable] = [
        stamp.mark(paper),
        # The event's name on a line of its own: appended, a long name pushed the words
        # 理论知识考试 over the line's end and broke them (理论知 / 识考试).
        pdf.para(event_name, st.title),
        pdf.para("理论知识考试　纸质试卷", st.title),
        pdf.para(f"赛位号 {paper.station}　满分 {paper.full_marks} 分", st.subtitle),
        pdf.para("网络中断时由裁判长宣布改用纸质作答。请在答题卡上作答；本试卷的题目顺序和选项顺序"
                 "与本赛位屏幕上的试卷相同。", st.small),
        Spacer(1, 3 * mm)]
    section = None
    for question in paper.questions:
        if question.type != section:
            section = question.type
            count = sum(q.type == section for q in paper.questions)
            numeral = NUMERALS[list(SECTIONS).index(section)]
            story.append(pdf.para(f"{numeral}、{SECTIONS[section]}（共 {count} 题）", st.body))
        story.append(_question(question, st))
    return [*story, PageBreak(), *_answer_sheet(paper, font, st)]


STAGE_PRINTING = N_("Printing the papers")


def render_papers(papers: list[PrintedPaper], *, event_name: str, font_config: str = "",
                  progress: Progress = NO_PROGRESS) -> bytes:
    """Every paper with its answer sheet, each station starting on a new page; `progress`
    counts the papers as they are laid out (360 pages take seconds)."""
    progress.stage(STAGE_PRINTING, len(papers))
    stamp = pdf.PageStamp(_seal, on_mark=lambda _paper: progress.advance())

    def story(font: str, st: pdf.Styles) -> list[Flowable]:
        flowables: list[Flowable] = []
        for number, paper in enumerate(papers):
            if number:
                flowables.append(PageBreak())
            flowables += _paper(paper, stamp, font, st, event_name)
        return flowables

    return pdf.build_document(story, title=f"{event_name} 理论知识考试纸质试卷",
                              checkpoint=None, font_config=font_config, stamp=stamp,
                              top_margin=22 * mm)
