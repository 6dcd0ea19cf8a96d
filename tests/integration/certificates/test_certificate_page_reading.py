"""The page check reads a certificate page's text and refuses a page it could not read fully.

Pages are rendered from a record (``pdf.render``, the real CJK font) and then changed with pypdf's
writer the way a holder of the registry's PDF key could: another page, an annotation, an XObject, a
font without a ToUnicode map, operators appended to the content stream. Each unfit page fails as
``CERT_PDF_PAGE_UNFIT`` saying what it has; text the record does not hold fails as
``CERT_PDF_PAGE_EXTRA_TEXT``. No signature here: ``check_page`` is the step after it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Final

import pytest
from pypdf import PageObject, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, StreamObject

from estatechain.canonical import JSONValue
from estatechain.certificates.check_codes import CheckCode
from estatechain.certificates.page_text import read_page_text
from estatechain.certificates.pdf import cjk_font, render
from estatechain.certificates.pdf_check import check_page
from estatechain.certificates.record import displayed_fields
from estatechain.certificates.verify import CheckFailed

ISSUED_MS: Final = 1_767_484_800_000
SPACED: Final = "广 州 市 花 都 区 新 华 街 道 " * 6 + "J0000001-1-F03"  # wraps next to a space wherever it wraps
RECORD: Final[dict[str, JSONValue]] = {
    "number": "粤(2026)广州市不动产证明第00000042号", "right_or_matter": "抵押权",
    "right_holders": [{"name": "中国工商银行广州分行"}], "obligors": [{"name": "李婷"}],
    "location": SPACED, "unit_number": "440114026003GB00001F00010007",
    "other": ["被担保主债权数额：120万元", "合同编号：LOAN-2026-0001"], "notes": ["抵押顺位：第1顺位"],
    "registry": {"name": "广州市不动产登记中心"}, "date": "2026-01-04",
    "elicence_id": "1.2.156.3005.2.11100000MB03271699022.11440100MB2C92731X.202600000042.001.E",
}


@pytest.fixture(scope="module")
def genuine() -> bytes:
    return render(RECORD, qr_content="http://127.0.0.1:8700/", attachment=b"{}", font=cjk_font(), issued_ms=ISSUED_MS)


def changed(pdf: bytes, change: Callable[[PdfWriter, PageObject], object]) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    change(writer, writer.pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def appended(pdf: bytes, operators: bytes) -> bytes:
    def append(_: PdfWriter, page: PageObject) -> None:
        contents = stream(page)
        contents.set_data(contents.get_data() + b"\n" + operators)
    return changed(pdf, append)


def title_glyphs(pdf: bytes) -> list[bytes]:
    """The 2-byte glyph codes (hex) of the page's title 不动产登记证明, the first text the page draws."""
    contents = read_contents(pdf)
    match = re.search(rb"\[<([0-9a-f]+)>\] TJ", contents)
    assert match is not None
    return [match[1][i:i + 4] for i in range(0, len(match[1]), 4)]


def read_contents(pdf: bytes) -> bytes:
    out: list[bytes] = []
    changed(pdf, lambda _, page: out.append(stream(page).get_data()))
    return out[0]


def stream(page: PageObject) -> StreamObject:
    contents = page["/Contents"].get_object()
    assert isinstance(contents, StreamObject)  # pdf.render writes one content stream
    return contents


def dictionary(value: object) -> DictionaryObject:
    assert isinstance(value, DictionaryObject)
    return value


def unfit(pdf: bytes) -> str:
    with pytest.raises(CheckFailed) as failed:
        check_page(pdf, RECORD, ISSUED_MS)
    assert failed.value.code == CheckCode.PDF_PAGE_UNFIT, failed.value.params
    return str(failed.value.params["what"])


def test_the_genuine_page_shows_every_value_even_one_wrapped_next_to_a_space(genuine: bytes) -> None:
    assert check_page(genuine, RECORD, ISSUED_MS) == len(displayed_fields(RECORD))
    runs = read_page_text(genuine).runs
    assert runs[:2] == ("不动产登记证明", RECORD["number"])
    assert "李婷" in runs
    assert sum(1 for run in runs if "广 州 市" in run) > 1  # the location is wrapped over lines


def test_a_second_page_makes_the_page_unfit(genuine: bytes) -> None:
    assert unfit(changed(genuine, lambda writer, _: writer.add_blank_page())) == "2 pages (a certificate is one page)"


def test_a_visible_annotation_makes_the_page_unfit(genuine: bytes) -> None:
    note = FreeText(text="义务人：王五", rect=(100, 100, 300, 130))
    assert unfit(changed(genuine, lambda writer, _: writer.add_annotation(0, note))) == (
        "a visible /FreeText annotation on the page")


def test_a_form_object_in_the_resources_or_drawn_makes_the_page_unfit(genuine: bytes) -> None:
    def add_form(writer: PdfWriter, page: PageObject) -> None:
        form = DecodedStreamObject()
        form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form")})
        resources = dictionary(page["/Resources"])
        resources[NameObject("/XObject")] = DictionaryObject({NameObject("/Fm0"): writer._add_object(form)})

    assert unfit(changed(genuine, add_form)).startswith("an image or form object on the page")
    assert unfit(appended(genuine, b"/Fm0 Do")) == "an image or form object drawn on the page"
    assert unfit(appended(genuine, b"BI /W 1 /H 1 /CS /G /BPC 8 ID \x00 EI")) == "an inline image on the page"


def test_a_font_without_a_tounicode_map_makes_the_page_unfit(genuine: bytes) -> None:
    def strip_map(_: PdfWriter, page: PageObject) -> None:
        del dictionary(dictionary(dictionary(page["/Resources"])["/Font"])["/F1"])[NameObject("/ToUnicode")]

    assert unfit(changed(genuine, strip_map)) == "font /F1 is not a Type0 Identity-H font with a ToUnicode map"
    no_resources = changed(genuine, lambda _, page: page.pop(NameObject("/Resources")))
    assert unfit(no_resources) == "font /F1 is not in the page's resources"


def test_text_shown_without_a_text_object_or_a_known_font_makes_the_page_unfit(genuine: bytes) -> None:
    glyph = b"<" + title_glyphs(genuine)[0] + b">"
    assert unfit(appended(genuine, glyph + b" Tj")) == (
        "text shown outside a text object or before a font is set (Tj)")
    assert unfit(appended(genuine, b"BT /F9 11 Tf 100 100 Td " + glyph + b" Tj ET")) == (
        "font /F9 is not in the page's resources")


def test_an_added_text_object_or_actual_text_fails_as_extra_text(genuine: bytes) -> None:
    backwards = b"".join(reversed(title_glyphs(genuine)))  # 明证记登产动不: glyphs of the font, not a record text
    for operators, text in [(b"BT /F1 11 Tf 100 100 Td [<" + backwards + b">] TJ ET", "明证记登产动不"),
                            (b"/Span <</ActualText <FEFF738B4E94>>> BDC EMC", "王五")]:
        with pytest.raises(CheckFailed) as failed:
            check_page(appended(genuine, operators), RECORD, ISSUED_MS)
        assert (failed.value.code, failed.value.params["text"]) == (CheckCode.PDF_PAGE_EXTRA_TEXT, text)


def test_text_in_a_text_object_left_open_or_opened_again_fails_as_extra_text(genuine: bytes) -> None:
    """Viewers (poppler's pdftotext and pdftoppm too) draw such text; the check must read it as well."""
    title = b"".join(title_glyphs(genuine))
    backwards = b"".join(reversed(title_glyphs(genuine)))
    for operators in [b"BT /F1 11 Tf 300 400 Td [<" + backwards + b">] TJ",
                      b"BT /F1 11 Tf 300 400 Td [<" + backwards + b">] TJ BT 0 -20 Td [<" + title + b">] TJ ET"]:
        with pytest.raises(CheckFailed) as failed:
            check_page(appended(genuine, operators), RECORD, ISSUED_MS)
        assert (failed.value.code, failed.value.params["text"]) == (CheckCode.PDF_PAGE_EXTRA_TEXT, "明证记登产动不")
