"""A webhook URL is checked as the delivery will use it: one httpx cannot send to is refused when set.

Such a URL used to pass (``urlsplit`` alone), and every delivery attempt then raised inside httpx before
any network use; the org's drain died and was restarted at once, thousands of times a second.
"""

from __future__ import annotations

import pytest

from estatechain.errors import InputError
from estatechain.node.outbox import check_webhook_url


@pytest.mark.parametrize("url", ["https://bank.example/a\x7f", "https://bank.example/ab\r\nX-Evil: 1",
                                 "https://bank.example:999999999999/hook", "https://bank example/hook"])
def test_a_url_the_delivery_could_not_use_is_refused(url: str) -> None:
    with pytest.raises(InputError, match="url"):
        check_webhook_url(url)


def test_ordinary_urls_pass() -> None:
    assert check_webhook_url("https://bank.example:8443/estatechain/hook?x=1") == \
        "https://bank.example:8443/estatechain/hook?x=1"
    assert check_webhook_url("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/hook"
