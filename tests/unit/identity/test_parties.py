from __future__ import annotations

import hashlib
import hmac

import pytest

from estatechain.errors import InputError
from estatechain.identity.documents import DocumentError, validate_id
from estatechain.identity.parties import party_id, party_id_input, party_id_of

KEY = bytes(range(32))


def test_the_hmac_input_is_the_documented_canonical_json() -> None:
    doc = validate_id("resident_id", "11010519491231002x")
    assert party_id_input(doc) == (
        b'{"id_number":"11010519491231002X","id_type":"resident_id","type":"estatechain.party-id.v1"}'
    )


def test_party_id_is_hex_hmac_sha256_of_that_input_under_the_authority_key() -> None:
    expected = hmac.new(
        KEY,
        b'{"id_number":"91350100M000100Y43","id_type":"uscc","type":"estatechain.party-id.v1"}',
        hashlib.sha256,
    ).hexdigest()
    assert party_id(KEY, "uscc", "91350100M000100Y43") == expected
    assert len(expected) == 64
    assert expected == expected.lower()


def test_non_ascii_numbers_are_encoded_as_utf8_json_strings() -> None:
    doc = validate_id("military_officer_card", "南字第12345678号")
    assert party_id_input(doc) == (
        '{"id_number":"南字第12345678号","id_type":"military_officer_card","type":"estatechain.party-id.v1"}'
    ).encode()


@pytest.mark.parametrize("spelling", ["11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ", "110105491231002",
                                      " 110105 19491231 002X"])
def test_every_spelling_of_one_document_gives_one_party_id(spelling: str) -> None:
    assert party_id(KEY, "resident_id", spelling) == party_id(KEY, "resident_id", "11010519491231002X")


def test_the_type_is_part_of_the_identity() -> None:
    number = "11010519491231002X"
    assert party_id(KEY, "resident_id", number) != party_id(KEY, "household_register", number)
    assert party_id(KEY, "taiwan_permit", "12345678") != party_id(KEY, "passport", "12345678")


def test_a_different_key_gives_unrelated_ids() -> None:
    other = bytes(range(1, 33))
    assert party_id(KEY, "passport", "E12345678") != party_id(other, "passport", "E12345678")


def test_the_number_is_validated_before_anything_is_hashed() -> None:
    with pytest.raises(DocumentError) as info:
        party_id(KEY, "resident_id", "44010619900230123X", field="owners[1].id_number")
    assert str(info.value).startswith("owners[1].id_number: ")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(InputError, match="too short"):
        party_id(b"short", "passport", "E12345678")
    with pytest.raises(InputError, match="too short"):
        party_id_of(bytes(31), validate_id("passport", "E12345678"))
