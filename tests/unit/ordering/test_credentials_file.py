"""An org's NATS credentials file that is not in our format is refused naming the file and the format.

An operator handed a NATS ``.creds`` file (JWT and seed) by a NATS administrator would put it where the
node expects its credentials; the node then died with a bare JSON or KeyError traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from estatechain.errors import InputError
from estatechain.ordering.natsconfig import Credentials

CREDS = """-----BEGIN NATS USER JWT-----
eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.sig
------END NATS USER JWT------
"""


@pytest.mark.parametrize("content", [CREDS, '{"user": "icbc-gz"}', "[1, 2]", None])
def test_a_file_not_in_the_credentials_format_is_an_input_error_naming_it(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "icbc-gz.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        Credentials.load(path)
    assert str(path) in str(refused.value)
    assert '"inbox_prefix"' in str(refused.value)


def test_saved_credentials_load_back(tmp_path: Path) -> None:
    saved = Credentials(user="icbc-gz", password="s3cret-enough", inbox_prefix="_INBOX_icbc-gz")
    saved.save(tmp_path / "icbc-gz.json")
    assert Credentials.load(tmp_path / "icbc-gz.json") == saved
