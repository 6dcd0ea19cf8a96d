"""Both languages are complete: every page text and every rule code has a zh-CN and an en text.

Page texts are extracted from the portal's templates and code the way ``pybabel extract`` does
(``web/babel.cfg``), so a text added without a catalogue entry fails here, in either language. Rule
results must never fall back to the "unknown code" text on a desk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from estatechain import web
from estatechain.contract.rejections import RejectionCode
from estatechain.messages import has_text
from estatechain.web import i18n

WEB = Path(web.__file__).parent


def page_texts() -> set[str]:
    found = extract_from_dir(
        str(WEB), method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "N_": None, "gettext": None})
    return {str(message) for _, _, message, _, _ in found}


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_page_text_has_a_translation(locale: str) -> None:
    texts = page_texts()
    assert len(texts) > 100
    with (WEB / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(texts - translated.keys()) == []


def test_chinese_texts_are_translated_and_placeholders_survive() -> None:
    zh, en = i18n.translations("zh-CN"), i18n.translations("en")
    for text in page_texts():
        chinese = zh.gettext(text)
        assert en.gettext(text) == text
        assert chinese != text, text
        for placeholder in ("%(tx)s", "%(n)s", "%(prefix)s"):
            assert (placeholder in text) == (placeholder in chinese), text


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_rule_code_has_a_text(locale: str) -> None:
    missing = [code.value for code in RejectionCode if not has_text(code.value, locale)]
    assert missing == []
