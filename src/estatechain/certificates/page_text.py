"""The text a certificate PDF's page shows, read the way ``pdftotext`` reads it (glyphs through ToUnicode).

Why our own reader: the project depends on pyhanko, which parses PDF objects and content streams but
extracts no text, and a certificate page is narrow enough to read exactly: one page, text drawn in
its content stream only, in Type0 fonts with ``Identity-H`` encoding (2-byte codes) and a ToUnicode
map, as ``pdf.render`` writes it. Anything else a page could use to show text that this reader would
not see (a second page, a form or image XObject, an annotation with a visible box, a font without a
ToUnicode map or in another encoding) makes the page *unfit*: ``PageUnfit`` says what, and the
verifier fails it rather than vouch for text it cannot read.

What it cannot see: a page's text is what its ToUnicode map says the glyphs mean. A holder of the
registry's PDF-signing key could draw other glyphs under a truthful map; only the signed record
(``certificate.json``) and the ledger are proof of content (docs/certificates.md).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import read_until_delimiter, skip_over_comments, skip_over_whitespace
from pyhanko.pdf_utils.reader import PdfFileReader

from estatechain.errors import EstatechainError

_HEX: Final = re.compile(rb"<([0-9A-Fa-f\s]*)>")
_BLOCK: Final = re.compile(rb"begin(bfchar|bfrange)(.*?)end\1", re.DOTALL)
_RANGE: Final = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)")
_SHOW_OPS: Final = frozenset({"Tj", "TJ", "'", '"'})
_LITERALS: Final = frozenset({b"true", b"false", b"null"})
_MAX_DEPTH: Final = 32


class PageUnfit(EstatechainError):
    """The PDF shows (or could show) text this reader does not read; ``str`` says what, for the report."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PageText:
    """What the page's content stream draws as text, in drawing order."""

    runs: tuple[str, ...]
    """Each text object's (``BT`` … ``ET``) glyphs, decoded through its font's ToUnicode map."""
    actual_texts: tuple[str, ...]
    """Every ``/ActualText`` the page declares: what a reader's copy-and-paste or search gets instead."""


def read_page_text(pdf: bytes) -> PageText:
    """The text of the one page of ``pdf``.

    Raises:
        PageUnfit: not one page, or the page could show text other than through its content stream's
            Type0 ``Identity-H`` fonts with ToUnicode maps (see the module's docstring).

    """
    try:
        return _page_text(PdfFileReader(io.BytesIO(pdf), strict=False))
    except PageUnfit:
        raise
    except Exception as exc:  # noqa: BLE001  (untrusted bytes: any parse failure)
        raise PageUnfit(f"a page that cannot be read ({type(exc).__name__}: {exc})") from None


def _page_text(reader: PdfFileReader) -> PageText:
    pages = _pages(reader.root["/Pages"])
    if len(pages) != 1:
        raise PageUnfit(f"{len(pages)} pages (a certificate is one page)")
    page = pages[0]
    _no_visible_annotations(page)
    resources = page["/Resources"].get_object() if "/Resources" in page else {}
    if "/XObject" in resources and len(resources["/XObject"].get_object()) > 0:
        raise PageUnfit("an image or form object on the page (a certificate's page draws text and lines only)")
    fonts = resources["/Font"].get_object() if "/Font" in resources else {}
    maps = {str(name): _font_map(str(name), ref.get_object()) for name, ref in fonts.items()}
    contents = page["/Contents"]
    streams = list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
    return _read((op for stream in streams for op in _operators(stream.get_object())), maps)


def _pages(ref: generic.PdfObject, depth: int = 0) -> list[generic.DictionaryObject]:
    node = ref.get_object()  # type: ignore[no-untyped-call]
    if not isinstance(node, generic.DictionaryObject) or depth > _MAX_DEPTH:
        raise PageUnfit("a page tree that is not one")
    if node.get("/Type") == "/Pages":
        return [page for kid in node["/Kids"] for page in _pages(kid, depth + 1)]
    return [node]


def _no_visible_annotations(page: generic.DictionaryObject) -> None:
    for ref in page.get("/Annots", generic.ArrayObject()):
        annotation = ref.get_object()
        x1, y1, x2, y2 = (float(v) for v in annotation.get("/Rect", (0, 0, 0, 0)))
        if x1 != x2 and y1 != y2:
            raise PageUnfit(f"a visible {annotation.get('/Subtype', 'annotation')} annotation on the page")


def _font_map(name: str, font: generic.DictionaryObject) -> Mapping[int, str]:
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H" or "/ToUnicode" not in font:
        raise PageUnfit(f"font {name} is not a Type0 Identity-H font with a ToUnicode map")
    return _to_unicode(font["/ToUnicode"].get_object().data)


def _to_unicode(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's ``bfchar`` and ``bfrange`` entries as code → text (UTF-16BE targets)."""
    found: dict[int, str] = {}
    for kind, body in _BLOCK.findall(cmap):
        if kind == b"bfchar":
            hexes = _HEX.findall(body)
            for source, target in zip(hexes[::2], hexes[1::2], strict=True):
                found[int(source, 16)] = _utf16(target)
            continue
        for low, high, target in _RANGE.findall(body):
            start, end = int(low, 16), int(high, 16)
            if target.startswith(b"["):
                for offset, each in enumerate(_HEX.findall(target)):
                    found[start + offset] = _utf16(each)
            else:
                first = int(target.strip(b"<>"), 16)
                for offset in range(end - start + 1):
                    found[start + offset] = _utf16(b"%04x" % (first + offset))
    return found


def _utf16(hex_text: bytes) -> str:
    return bytes.fromhex(re.sub(rb"\s", b"", hex_text).decode("ascii")).decode("utf-16-be")


def _operators(stream: generic.StreamObject) -> Iterator[tuple[str, list[generic.PdfObject]]]:
    """Each operator of a content stream with its operands.

    pyhanko's own content-stream parser reads an operator that starts with ``f``, ``t`` or ``n`` (the
    fill operator ``f``) as a boolean or null and fails, so operators are told apart here and only
    operands go to its object reader.
    """
    data = stream.data
    buffer = io.BytesIO(data)
    args: list[generic.PdfObject] = []
    while True:
        skip_over_whitespace(buffer, error_on_end_of_stream=False)
        skip_over_comments(buffer, error_on_end_of_stream=False)
        start = buffer.tell()
        if start >= len(data):
            return
        first = data[start:start + 1]
        if first.isalpha() or first in {b"'", b'"'}:
            word = read_until_delimiter(buffer) if first.isalpha() else buffer.read(1)
            if word not in _LITERALS:
                if word == b"BI":
                    raise PageUnfit("an inline image on the page")
                yield word.decode("ascii", "replace"), args
                args = []
                continue
            buffer.seek(start)
        args.append(generic.read_object(buffer, stream.container_ref,  # type: ignore[arg-type]
                                        in_content_stream=generic.ContentOpReading.IN_OBJECT))


@dataclass(slots=True)
class _Reading:
    """The state of reading one content stream: the text object being drawn, its font, what was read."""

    maps: Mapping[str, Mapping[int, str]]
    runs: list[str] = field(default_factory=list)
    actual: list[str] = field(default_factory=list)
    current: list[str] | None = None
    font: Mapping[int, str] | None = None

    def operator(self, op: str, args: list[generic.PdfObject]) -> None:
        if op == "BT":
            self.current = []
        elif op == "ET":
            self.runs.append("".join(self.current or []))
            self.current = None
        elif op == "Tf":
            self.font = self.maps.get(str(args[0]))
            if self.font is None:
                raise PageUnfit(f"font {args[0]} is not in the page's resources")
        elif op in {"BDC", "BMC"} and len(args) == 2 and isinstance(args[1], generic.DictionaryObject):
            if "/ActualText" in args[1]:
                self.actual.append(str(args[1]["/ActualText"]))
        elif op == "Do":
            raise PageUnfit("an image or form object drawn on the page")
        elif op in _SHOW_OPS:
            if self.font is None or self.current is None:
                raise PageUnfit(f"text shown outside a text object or before a font is set ({op})")
            self.current.append(_shown(args, self.font))


def _read(operators: Iterator[tuple[str, list[generic.PdfObject]]],
          maps: Mapping[str, Mapping[int, str]]) -> PageText:
    reading = _Reading(maps=maps)
    for op, args in operators:
        reading.operator(op, args)
    return PageText(runs=tuple(reading.runs), actual_texts=tuple(reading.actual))


def _shown(args: list[generic.PdfObject], font: Mapping[int, str]) -> str:
    """The text of one show operator's strings (2-byte codes); a code without a mapping reads as U+FFFD."""
    strings = [a for arg in args for a in (arg if isinstance(arg, generic.ArrayObject) else [arg])
               if isinstance(a, generic.ByteStringObject | generic.TextStringObject)]
    text = []
    for string in strings:
        data = string.original_bytes
        text += [font.get(int.from_bytes(data[i:i + 2], "big"), "\ufffd") for i in range(0, len(data) - 1, 2)]
    return "".join(text)
