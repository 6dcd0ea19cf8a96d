"""``SyncClient``: usable from several threads at once, and the same public surface as ``Client``, blocking."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from estatechain.sdk import Client, ClientIdentity, SdkError, SyncClient

CHAIN = "ab" * 32
ORG = "icbc-gz"
IDENTITY = ClientIdentity(cert_der=b"\x30\x00", private_key=bytes(32), fingerprint="cd" * 32)


def quiet_node(request: httpx.Request) -> httpx.Response:
    """Events never come (the stream only waits); every other request is answered at once."""
    if request.url.path == "/v1/events":
        async def waits() -> AsyncIterator[bytes]:
            yield b": connected\n\n"
            await asyncio.sleep(3600)

        return httpx.Response(200, content=waits(), headers={"content-type": "text/event-stream"})
    if request.url.path == "/v1/transactions":
        tx_id = orjson.loads(request.content)["payload"]["nonce"]
        return httpx.Response(200, json={"tx_id": tx_id, "status": "committed", "result": "valid", "height": 3,
                                         "seq": 9, "position": 0})
    return httpx.Response(200, json={"caller": {"org_id": ORG}, "thread": threading.current_thread().name})


def test_another_thread_may_call_the_client_while_a_stream_waits_in_one_thread() -> None:
    """The engineer's case: ``for e in stream`` in a thread, ``submit_and_wait`` in the main thread.

    With one private loop run by ``run_until_complete`` this was ``RuntimeError: This event loop is
    already running`` and a coroutine never awaited.
    """
    with SyncClient("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG,
                    transport=httpx.MockTransport(quiet_node)) as client:
        stream = client.events(heartbeat_s=1)
        seen: list[dict[str, Any]] = []
        failures: list[BaseException] = []

        def read() -> None:
            try:
                seen.extend(stream)
            except BaseException as exc:  # noqa: BLE001  (handed to the main thread's assertion)
                failures.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        time.sleep(0.2)  # the reader is waiting for an event
        signed, status = client.submit_and_wait("note.put", {"data": {}, "if_absent": False, "key": "k"})
        assert client.members()["caller"] == {"org_id": ORG}
        stream.stop()
        reader.join(timeout=5)
        assert not reader.is_alive(), "stop() did not end the wait"
    assert status.committed
    assert signed.tx_id
    assert failures == []
    assert seen == []


def test_a_thread_pool_shares_one_client() -> None:
    """A batch job's pool: 16 calls from 8 threads at once, each answered, none blocking another's loop."""
    with SyncClient("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG,
                    transport=httpx.MockTransport(quiet_node)) as client, ThreadPoolExecutor(8) as pool:
        signed = list(pool.map(lambda n: client.sign("note.put", {"data": {"n": n}, "if_absent": False,
                                                                  "key": f"k{n}"}), range(16)))
        statuses = list(pool.map(lambda s: client.submit(s.envelope), signed))
    assert all(s.committed for s in statuses)
    assert len({s.tx_id for s in signed}) == 16


def test_closing_the_client_ends_a_stream_waiting_in_another_thread_and_later_calls_say_it_is_closed() -> None:
    client = SyncClient("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG,
                        transport=httpx.MockTransport(quiet_node))
    stream = client.events(heartbeat_s=1)
    outcome: list[object] = []
    reader = threading.Thread(target=lambda: outcome.append(list(stream)))
    reader.start()
    time.sleep(0.2)
    client.close()
    reader.join(timeout=5)
    assert not reader.is_alive()
    assert outcome == [[]]
    assert stream.ended
    with pytest.raises(RuntimeError, match="this SyncClient is closed"):
        client.members()
    client.close()  # idempotent


def test_a_call_still_running_when_another_thread_closes_the_client_is_an_sdk_error() -> None:
    started = threading.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.sleep(3600)
        return httpx.Response(200, json={})

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await slow(request)

    client = SyncClient("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG, transport=Slow())
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.members()
        except SdkError as exc:
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    assert started.wait(5)
    client.close()
    caller.join(timeout=5)
    assert [str(e) for e in errors] == ["the SyncClient was closed while this call was running"]


_ASYNC_ONLY = {"aclose": "close"}
"""The async client's name → the blocking client's name, where the names must differ."""


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(cls)
            if not name.startswith("_") and callable(member)}


def test_the_blocking_client_has_every_public_method_of_the_async_one_with_the_same_parameters() -> None:
    """docs/api.md promises "the same methods": build_request, send, download and the proofs were missing."""
    asynchronous, blocking = _public(Client), _public(SyncClient)
    expected = {_ASYNC_ONLY.get(name, name) for name in asynchronous}
    assert set(blocking) == expected, (sorted(expected - set(blocking)), sorted(set(blocking) - expected))
    for name, signature in asynchronous.items():
        mirrored = blocking[_ASYNC_ONLY.get(name, name)]
        assert list(mirrored.parameters.values()) == list(signature.parameters.values()), name
        if name != "events":  # an AsyncGenerator there, a blocking EventStream here
            assert mirrored.return_annotation == signature.return_annotation, name
    assert list(inspect.signature(SyncClient.__init__).parameters.values()) == list(
        inspect.signature(Client.__init__).parameters.values())
    for name in set(asynchronous) - {"build_request", "sign_prepared", "aclose", "events"}:
        assert inspect.iscoroutinefunction(getattr(Client, name)), name
        assert not inspect.iscoroutinefunction(getattr(SyncClient, _ASYNC_ONLY.get(name, name))), name
    assert isinstance(inspect.getattr_static(SyncClient, "identity"), property)


def test_a_stream_keeps_its_dropped_client_alive_and_a_stopped_loop_refuses_instead_of_hanging() -> None:
    """``stream = SyncClient(...).events()`` once hung its next read for ever: the dropped client's finaliser
    had stopped the loop the stream still used."""
    import gc  # noqa: PLC0415

    stream = SyncClient("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG,
                        transport=httpx.MockTransport(quiet_node)).events(heartbeat_s=1)
    gc.collect()
    time.sleep(0.2)
    assert stream._runner.loop.is_running()  # the client lives on with its stream: its finaliser has not run
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(next, stream)
        time.sleep(0.5)
        assert not reading.done()  # still waiting for an event: the loop runs
        stream.stop()
        with pytest.raises(StopIteration):
            reading.result(timeout=5)
    client = SyncClient("http://node.test", IDENTITY, chain_id=CHAIN, node_org=ORG,
                        transport=httpx.MockTransport(quiet_node))
    loop = client._runner.loop
    loop.call_soon_threadsafe(loop.stop)  # what the finaliser of a dropped client does
    deadline = time.monotonic() + 5
    while loop.is_running():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises((SdkError, RuntimeError)):
        client.consistency_proof(1, 2)
