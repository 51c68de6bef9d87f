"""Word banks for the tests, written with python-docx the way Word stores them: typed numbers
or automatic numbering (w:numPr, the number not in the text), soft line breaks (w:br), tables."""

from __future__ import annotations

import io

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn


def new_document():
    return docx.Document()


def to_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def paragraphs_docx(*texts: str) -> bytes:
    """One paragraph per text; "\\n" inside a text is a soft line break, "\\t" a tab."""
    document = new_document()
    for text in texts:
        document.add_paragraph(text)
    return to_bytes(document)


def add_list(document, formats: list[str], texts: list[str] | None = None,
             number: int = 90) -> str:
    """A list definition (abstractNum + num) with one level per format; returns its numId."""
    numbering = document.part.numbering_part.element
    texts = texts or ["%1、", "%2.", "%3."]
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{texts[i] if i < len(texts) else "%1."}"/></w:lvl>'
        for i, fmt in enumerate(formats))
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{number}">'
                         f'{levels}</w:abstractNum>')
    num = parse_xml(f'<w:num {nsdecls("w")} w:numId="{number}"><w:abstractNumId '
                    f'w:val="{number}"/></w:num>')
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(num)
    return str(number)


def numbered(document, text: str, num_id: str, level: int = 0):
    """A paragraph of a Word list: Word shows its number; the text does not hold it."""
    paragraph = document.add_paragraph(text)
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/>'
                         f'<w:numId w:val="{num_id}"/></w:numPr>'))
    return paragraph


def table(document_or_cell, rows: list[list[str]]):
    made = document_or_cell.add_table(rows=len(rows), cols=max(len(r) for r in rows))
    for cells, values in zip(made.rows, rows, strict=True):
        for cell, value in zip(cells.cells, values, strict=False):
            cell.text = value
    return made
