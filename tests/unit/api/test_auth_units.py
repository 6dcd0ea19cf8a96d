"""The replay cache and the error mapping, without a network."""

from __future__ import annotations

from pathlib import Path

import pytest

import estatechain.api
import estatechain.sdk
from estatechain.api.auth import NonceCache
from estatechain.api.problems import ApiError, to_problem
from estatechain.errors import Conflict, InputError, IntegrityFault, NotFound, Refused, Unavailable


def test_a_nonce_is_accepted_once_per_key() -> None:
    cache = NonceCache(10)
    assert cache.remember("k", "nonce-0001", expires_s=100, now_s=0)
    assert not cache.remember("k", "nonce-0001", expires_s=100, now_s=1)
    assert cache.remember("other", "nonce-0001", expires_s=100, now_s=1)


def test_expired_nonces_are_forgotten_and_a_full_cache_refuses_rather_than_forgets() -> None:
    cache = NonceCache(2)
    cache.remember("k", "a-nonce-1", expires_s=10, now_s=0)
    cache.remember("k", "a-nonce-2", expires_s=10, now_s=0)
    with pytest.raises(ApiError) as caught:
        cache.remember("k", "a-nonce-3", expires_s=20, now_s=5)
    assert caught.value.status == 503
    assert cache.remember("k", "a-nonce-3", expires_s=20, now_s=11)
    assert len(cache) == 1


@pytest.mark.parametrize(("exc", "status", "code"), [
    (Refused("NON_CANONICAL", "m", {"f": "x"}), 400, "NON_CANONICAL"),
    (InputError("bad"), 400, "INVALID_INPUT"),
    (NotFound("gone"), 404, "NOT_FOUND"),
    (Conflict("clash"), 409, "CONFLICT"),
    (IntegrityFault("blocks height=3", "bad hash"), 500, "INTEGRITY_FAULT"),
    (Unavailable("later"), 503, "UNAVAILABLE"),
    (RuntimeError("secret internals"), 500, "INTERNAL"),
])
def test_every_fault_maps_to_a_status_and_code(exc: Exception, status: int, code: str) -> None:
    problem = to_problem(exc)
    assert (problem.status, problem.code) == (status, code)
    assert "secret internals" not in problem.message


def test_the_sdk_and_the_api_share_exported_names() -> None:
    assert set(estatechain.api.__all__) == {"NodeServer", "create_app"}
    assert {"Client", "SyncClient", "ClientIdentity"} <= set(estatechain.sdk.__all__)


def test_the_replay_cache_file_keeps_live_pairs_across_a_restart_and_drops_expired_ones(tmp_path: Path) -> None:
    path = tmp_path / "request-nonces.sqlite"
    cache = NonceCache(10, path=path, now_s=1000)
    assert cache.remember("k", "live-nonce", expires_s=1300, now_s=1000)
    assert cache.remember("k", "old-nonce", expires_s=1010, now_s=1000)
    cache.close()
    again = NonceCache(10, path=path, now_s=1100)
    assert len(again) == 1
    assert not again.remember("k", "live-nonce", expires_s=1400, now_s=1100)  # a replay after the restart
    assert again.remember("k", "old-nonce", expires_s=1400, now_s=1100)  # expired: the time check guards it
    again.close()


def test_a_damaged_nonce_file_stops_the_node_naming_it_and_the_way_back(tmp_path: Path) -> None:
    path = tmp_path / "request-nonces.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(InputError, match=r"request-nonces\.sqlite: the node's record of used request nonces") as caught:
        NonceCache(10, path=path, now_s=1000)
    assert "delete it" in str(caught.value)


def test_a_pair_the_file_could_not_take_is_refused_503_and_not_remembered(tmp_path: Path) -> None:
    """Remembered in memory only, a re-send would read as a replay now, and be forgotten at the next restart."""
    cache = NonceCache(10, path=tmp_path / "request-nonces.sqlite", now_s=1000)
    assert cache._db is not None
    cache._db.execute("DROP TABLE seen")  # the file stops taking writes (a full disk, an I/O error)
    with pytest.raises(ApiError) as caught:
        cache.remember("k", "n", expires_s=1300, now_s=1000)
    assert (caught.value.status, caught.value.code) == (503, "UNAVAILABLE")
    assert len(cache) == 0
    cache.close()
