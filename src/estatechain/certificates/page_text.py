"""The text a certificate PDF's page shows, as pypdf reads it (glyphs through ToUnicode), and whether to trust it.

pypdf parses the page's content stream and decodes what each text-showing operator draws through its
font's ToUnicode map, as ``pdftotext`` does. What stays ours is the policy: a certificate page is
narrow (one page, text drawn in its content stream only, in Type0 fonts with ``Identity-H`` encoding
and a ToUnicode map, as ``pdf.render`` writes it), and anything else a page could use to show text
that this reading would not see (a second page, a form or image XObject, an inline image, an
annotation with a visible box, a font without a ToUnicode map or in another encoding, text shown
outside a text object or without a font) makes the page *unfit*: ``PageUnfit`` says what, and the
verifier fails it rather than vouch for text it cannot read.

pypdf lays the text out as it goes: between two text objects it puts a space or a line break,
judged from where they are drawn. Those are not glyphs, so each text object's reading is stripped of
the whitespace around it; ``pdf_check`` compares texts without whitespace, since which separator
pypdf chose follows the layout, not the record.

What it cannot see: a page's text is what its ToUnicode map says the glyphs mean (a code the map
lacks reads as itself). A holder of the registry's PDF-signing key could draw other glyphs under a
truthful map; only the signed record (``certificate.json``) and the ledger are proof of content
(docs/certificates.md).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from pypdf import PageObject, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, PdfObject, TextStringObject, create_string_object

from estatechain.errors import EstatechainError

_SHOW_OPS: Final = frozenset({b"Tj", b"TJ", b"'", b'"'})
_MARKED_CONTENT: Final = frozenset({b"BDC", b"BMC"})


class PageUnfit(EstatechainError):
    """The PDF shows (or could show) text this reader does not read; ``str`` says what, for the report."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PageText:
    """What the page's content stream draws as text, in drawing order."""

    runs: tuple[str, ...]
    """Each text object's (``BT`` … ``ET``) text, decoded through its font's ToUnicode map, stripped."""
    actual_texts: tuple[str, ...]
    """Every ``/ActualText`` the page declares: what a reader's copy-and-paste or search gets instead."""


def read_page_text(pdf: bytes) -> PageText:
    """The text of the one page of ``pdf``.

    Raises:
        PageUnfit: not one page, or the page could show text other than through its content stream's
            Type0 ``Identity-H`` fonts with ToUnicode maps (see the module's docstring).

    """
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # a damaged file is reported by the check, not logged
    try:
        return _page_text(PdfReader(io.BytesIO(pdf), strict=False))
    except PageUnfit:
        raise
    except Exception as exc:  # noqa: BLE001  (untrusted bytes: any parse failure)
        raise PageUnfit(f"a page that cannot be read ({type(exc).__name__}: {exc})") from None


def _page_text(reader: PdfReader) -> PageText:
    if len(reader.pages) != 1:
        raise PageUnfit(f"{len(reader.pages)} pages (a certificate is one page)")
    page = reader.pages[0]
    _no_visible_annotations(page)
    resources = _dictionary(page.get_inherited("/Resources", DictionaryObject()))  # what pypdf reads with
    if len(_dictionary(resources.get("/XObject"))) > 0:
        raise PageUnfit("an image or form object on the page (a certificate's page draws text and lines only)")
    fonts = _dictionary(resources.get("/Font"))
    for name, font in fonts.items():
        _readable_font(name, _dictionary(font))
    reading = _Reading(fonts=frozenset(fonts))
    if resources:
        page.extract_text(visitor_operand_before=reading.before, visitor_operand_after=reading.after,
                          visitor_text=reading.text)
    else:  # pypdf reads no operator of a page without resources; the policy still sees each one
        contents = page.get_contents()
        for operands, operator in contents.operations if contents is not None else ():
            reading.before(operator, operands)
    reading.close()
    return PageText(runs=tuple(reading.runs), actual_texts=tuple(reading.actual))


def _dictionary(value: PdfObject | None) -> DictionaryObject:
    """``value`` resolved; an absent entry reads as empty."""
    found = value.get_object() if value is not None else DictionaryObject()
    if not isinstance(found, DictionaryObject):
        raise PageUnfit(f"a {type(found).__name__} where the page needs a dictionary")
    return found


def _no_visible_annotations(page: PageObject) -> None:
    annotations = page.get("/Annots")
    for ref in annotations.get_object() if annotations is not None else ArrayObject():
        annotation = _dictionary(ref)
        x1, y1, x2, y2 = (float(v) for v in annotation.get("/Rect", (0, 0, 0, 0)))
        if x1 != x2 and y1 != y2:
            raise PageUnfit(f"a visible {annotation.get('/Subtype', 'annotation')} annotation on the page")


def _readable_font(name: str, font: DictionaryObject) -> None:
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H" or "/ToUnicode" not in font:
        raise PageUnfit(f"font {name} is not a Type0 Identity-H font with a ToUnicode map")


def _text_string(value: object) -> str:
    """A PDF text string (UTF-16 or PDFDocEncoding) as text: pypdf hands content-stream strings over as bytes."""
    text = create_string_object(value) if isinstance(value, bytes) else value
    if not isinstance(text, TextStringObject):
        raise PageUnfit(f"an /ActualText that is not a text string ({value!r})")
    return str(text)


@dataclass(slots=True)
class _Reading:
    """pypdf's visitors over one content stream: the policy on each operator, the text of each text object.

    pypdf calls ``before`` and ``after`` around every operator and ``text`` whenever it hands over text
    it has decoded; the text of a text object is handed over by ``ET`` at the latest, before ``after``,
    or by the next ``BT`` or the stream's end. Viewers draw a text object that is never closed, or is
    opened again before ``ET``, so its text is a run all the same (``close``).
    """

    fonts: frozenset[str]
    runs: list[str] = field(default_factory=list)
    actual: list[str] = field(default_factory=list)
    current: list[str] | None = None
    font_set: bool = False
    saved: list[bool] = field(default_factory=list)

    def before(self, operator: bytes, operands: Sequence[object], *_matrices: object) -> None:
        if operator == b"Tf":
            font = str(operands[0]) if operands else "(none)"
            if font not in self.fonts:
                raise PageUnfit(f"font {font} is not in the page's resources")
            self.font_set = True
        elif operator == b"q":
            self.saved.append(self.font_set)
        elif operator == b"Q":
            self.font_set = self.saved.pop() if self.saved else False
        elif operator in _MARKED_CONTENT and len(operands) == 2 and isinstance(operands[1], DictionaryObject):
            if "/ActualText" in operands[1]:
                self.actual.append(_text_string(operands[1]["/ActualText"]))
        elif operator == b"Do":
            raise PageUnfit("an image or form object drawn on the page")
        elif operator == b"INLINE IMAGE":
            raise PageUnfit("an inline image on the page")
        elif operator in _SHOW_OPS and (not self.font_set or self.current is None):
            raise PageUnfit(f"text shown outside a text object or before a font is set ({operator.decode()})")

    def after(self, operator: bytes, *_state: object) -> None:
        if operator == b"BT":
            self.close()
            self.current = []
        elif operator == b"ET":
            self.close()

    def close(self) -> None:
        """End the text object being read, if one is open: its text becomes a run."""
        if self.current is not None:
            self.runs.append("".join(self.current).strip())
            self.current = None

    def text(self, text: str, *_state: object) -> None:
        if self.current is not None:
            self.current.append(text)
