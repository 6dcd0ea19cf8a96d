"""The message catalogue has a zh-CN and an en text for every stable code the ledger can answer with."""

from __future__ import annotations

import re
import string
from enum import StrEnum

import pytest

from estatechain import messages
from estatechain.certificates.check_codes import CheckCode
from estatechain.contract.rejections import SPECS, RejectionCode
from estatechain.errors import InputError
from estatechain.identity.membership import CertificateRefusal
from estatechain.ledger.refusals import InvalidCode, RefusalCode

CODE_ENUMS: tuple[type[StrEnum], ...] = (RejectionCode, RefusalCode, InvalidCode, CertificateRefusal, CheckCode)
ALL_CODES = sorted({code.value for enum in CODE_ENUMS for code in enum})
CJK = re.compile(r"[\u4e00-\u9fff]")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_public_surface_is_what_the_edges_import() -> None:
    assert sorted(messages.__all__) == ["LOCALES", "UNKNOWN_CODE", "has_text", "message", "normalise_locale", "texts"]


@pytest.mark.parametrize("locale", messages.LOCALES)
def test_every_code_of_every_enum_has_a_text_in_each_locale(locale: str) -> None:
    missing = [code for code in ALL_CODES if not messages.has_text(code, locale)]
    assert missing == [], f"{locale}: add texts for {missing}"


@pytest.mark.parametrize("locale", messages.LOCALES)
def test_the_catalogue_holds_no_code_that_no_enum_defines(locale: str) -> None:
    stale = sorted(set(messages.texts(locale)) - set(ALL_CODES) - {messages.UNKNOWN_CODE})
    assert stale == []


def test_every_zh_cn_text_is_written_in_chinese() -> None:
    not_chinese = [code for code, text in messages.texts("zh-CN").items() if not CJK.search(text)]
    assert not_chinese == []


def test_en_texts_are_not_chinese() -> None:
    assert [code for code, text in messages.texts("en").items() if CJK.search(text)] == []


@pytest.mark.parametrize("code", sorted(SPECS, key=str))
def test_both_texts_use_exactly_the_placeholders_the_contract_fills(code: RejectionCode) -> None:
    expected = placeholders(SPECS[code].message)
    for locale in messages.LOCALES:
        assert placeholders(messages.texts(locale)[code.value]) == expected, (code, locale)


def test_a_rejection_reads_in_chinese_with_its_detail_filled_in() -> None:
    text = messages.message(RejectionCode.V13_UNIT_SEIZED, "zh-CN", unit_number="440106001001GB00123F00010203",
                            seizure_id="S-1", order_no="（2026）粤0106执保77号", authority_org="gz-court")
    assert text == ("不动产单元 440106001001GB00123F00010203 处于 gz-court 的查封"
                    "（（2026）粤0106执保77号，查封记录 S-1）效力期间，在解封或查封期限届满前不得办理抵押。")


def test_a_missing_value_stays_visible_instead_of_raising() -> None:
    assert "{seizure_id}" in messages.message("V13_UNIT_SEIZED", "en", unit_number="U")


def test_a_code_from_a_newer_node_gets_a_text_that_names_it() -> None:
    assert messages.message("V99_SOMETHING_NEW", "en") == (
        "The ledger answered with code V99_SOMETHING_NEW; this version has no text for it.")
    assert "V99_SOMETHING_NEW" in messages.message("V99_SOMETHING_NEW", "zh-CN")


@pytest.mark.parametrize(("given", "expected"), [("zh", "zh-CN"), ("zh_CN", "zh-CN"), ("zh-Hans", "zh-CN"),
                                                 ("en-US", "en"), ("EN", "en")])
def test_common_spellings_of_a_locale_are_understood(given: str, expected: str) -> None:
    assert messages.normalise_locale(given) == expected


def test_an_unsupported_locale_is_a_clear_input_error() -> None:
    with pytest.raises(InputError, match="not supported"):
        messages.message("V13_UNIT_SEIZED", "fr")


@pytest.mark.parametrize("code", list(CheckCode))
def test_a_certificate_check_s_text_names_only_values_the_verifier_gives(code: CheckCode) -> None:
    """zh-CN may leave a value out (a status it names in words), never name one the step does not give."""
    given = placeholders(messages.texts("en")[code.value])
    assert placeholders(messages.texts("zh-CN")[code.value]) <= given, code
