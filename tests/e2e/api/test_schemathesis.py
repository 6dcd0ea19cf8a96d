"""schemathesis against the running node's ``/openapi.json``: no 5xx and no response that breaks the schema.

Every generated request is signed (RFC 9421, the SDK's ``sign_request``) as one of the roles of
domain.md §2 — drawn per example, so each operation is reached past authentication by several roles —
or sent unsigned. Signing happens in a ``before_call`` hook that gives the request a ``requests`` auth:
``requests`` calls it once the body is serialised, so ``Content-Digest`` is computed over the exact
bytes sent and ``@path``/``@query`` over the exact target.

Bounded for CI: positive and negative data, ``EXAMPLES`` per operation, derandomised (the same cases
every run), no shrinking, and a time budget the whole run must stay inside.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from register_node import OWNER_A, RegisterNode, register_node

from estatechain.sdk import ClientIdentity, RequestTarget, sign_request

try:
    import requests
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok
    from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
except ImportError as missing:  # pragma: no cover  (the dev extra installs it)
    print(f"schemathesis is not installed ({missing}); install the dev extra: pip install -e '.[dev]'")  # noqa: T201
    pytest.skip(f"schemathesis is not installed: {missing}", allow_module_level=True)

ROLES: Final[dict[str, str | None]] = {
    "registry.intake": "gz-registry/intake1",
    "registry.reviewer": "gz-registry/reviewer1",
    "registry.recorder": "gz-registry/recorder1",
    "registry.issuer": "gz-registry/issuer1",
    "bank.operator": "icbc-gz/operator1",
    "bank.approver": "icbc-gz/approver1",
    "other-bank.operator": "ccb-gz/operator1",
    "owner": OWNER_A,
    "developer": "poly-developer/developer1",
    "court": "gz-court/court1",
    "auditor": "gz-regulator/auditor1",
    "identity.officer": "gz-identity/officer1",
    "unsigned": None,
}
"""Who signs a generated request (None: it goes out unsigned and must get a documented 401)."""

EXAMPLES: Final = 20
"""Examples per operation and generation mode."""
STREAM_READ_S: Final = 0.5
"""How long an SSE response is read before it counts as answered (the stream never ends by itself)."""
NOT_UTF8: Final = (
    "BUG: POST /v1/payloads/<step> with a body that is not UTF-8 answers 400 HTTP_400 'There was an error parsing "
    "the body' (FastAPI's fallback), a status these routes do not document (403, 401, 413, 422) and a code that is "
    "not one of the API's; JSON that is UTF-8 but malformed gets the documented 422 VALIDATION_FAILED"
)
CHECKS: Final = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class SignAs(requests.auth.AuthBase):
    """Signs the prepared request (method, exact target, exact body) as ``identity`` with the SDK's signer."""

    def __init__(self, identity: ClientIdentity, target: RequestTarget) -> None:
        self._identity = identity
        self._target = target

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body
        if isinstance(body, str):
            body = body.encode("utf-8")
            prepared.body = body
            prepared.headers["Content-Length"] = str(len(body))
        assert body is None or isinstance(body, bytes), f"cannot sign a streamed body: {type(body)}"
        assert prepared.method is not None
        assert prepared.url is not None
        request = httpx.Request(prepared.method, prepared.url, content=body or None)
        sign_request(request, self._identity, target=self._target, created_s=int(time.time()))
        prepared.url = str(request.url)  # the target exactly as signed
        for name in ("Content-Digest", "Signature-Input", "Signature", "Estatechain-Certificate"):
            if name in request.headers:
                prepared.headers[name] = request.headers[name]
        return prepared


@dataclass(slots=True)
class Signing:
    """Who the hook signs the next request as (set per example)."""

    target: RequestTarget
    identity: ClientIdentity | None = None


@contextmanager
def signing_hook(target: RequestTarget) -> Iterator[Signing]:
    """A ``before_call`` hook, registered for the duration, that signs each call as ``Signing.identity``."""
    signing = Signing(target=target)

    def before_call(context: Any, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> None:
        if signing.identity is not None:
            kwargs["auth"] = SignAs(signing.identity, signing.target)
        kwargs["timeout"] = STREAM_READ_S if case.path == "/v1/events" else 10.0

    schemathesis.hook(before_call)
    try:
        yield signing
    finally:
        GLOBAL_HOOK_DISPATCHER.unregister(before_call)


@pytest.fixture(name="reg", scope="module")
def reg_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterNode]:
    with register_node(tmp_path_factory.mktemp("schemathesis")) as started:
        yield started


def known_bug(case: schemathesis.Case[Any], response: schemathesis.Response) -> str | None:
    """A failure already reported (and pinned by a strict xfail below), so the sweep can go on past it."""
    if (case.path.startswith("/v1/payloads/") and response.status_code == 400
            and response.json().get("error") == "HTTP_400"):
        return NOT_UTF8
    return None


@dataclass(slots=True)
class Sweep:
    """One run over every operation: who signs, and what it saw."""

    signing: Signing
    identities: dict[str, ClientIdentity | None]
    known: set[str] = field(default_factory=set)
    seen: Counter[str] = field(default_factory=Counter)


def _run_operation(sweep: Sweep, operation: Any, mode: GenerationMode) -> None:
    signing, identities, known, seen = sweep.signing, sweep.identities, sweep.known, sweep.seen

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=operation.as_strategy(generation_mode=mode), role=st.sampled_from(sorted(identities)))
    def exercise(case: schemathesis.Case[Any], role: str) -> None:
        signing.identity = identities[role]
        response = case.call()
        seen[f"{'signed' if signing.identity else 'unsigned'} {response.status_code}"] += 1
        if signing.identity is not None:
            assert response.status_code != 401, f"a signed request did not get past authentication: {response.text}"
        bug = known_bug(case, response)
        if bug is not None:
            known.add(bug)
            return
        case.validate_response(response, checks=CHECKS)

    try:
        exercise()
    except Unsatisfiable:
        if mode is not GenerationMode.NEGATIVE:
            raise  # an operation with nothing to negate has no negative cases; any positive case must exist


def test_no_5xx_and_no_schema_violation_for_any_role(reg: RegisterNode) -> None:
    schema = schemathesis.openapi.from_url(f"{reg.url}/openapi.json")
    identities = {role: None if handle is None else reg.identity(handle) for role, handle in ROLES.items()}
    failures: dict[str, str] = {}
    started = time.monotonic()
    ran: list[str] = []
    with signing_hook(reg.target) as signing:
        sweep = Sweep(signing=signing, identities=identities)
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                label = f"{operation.label} ({mode.value})"
                try:
                    _run_operation(sweep, operation, mode)
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (report every operation's failure)
                    failures[label] = f"{type(exc).__name__}: {exc}"[:3000]
                ran.append(label)
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(ran)} operation×mode runs, {EXAMPLES} examples each, {elapsed:.1f} s")  # noqa: T201
    print(f"schemathesis: responses {dict(sorted(sweep.seen.items()))}")  # noqa: T201
    for bug in sorted(sweep.known):
        print(f"schemathesis: known bug seen again: {bug}")  # noqa: T201
    assert len(ran) >= 2 * 30, ran
    assert sum(n for key, n in sweep.seen.items() if key.startswith("signed 2")) >= len(ran), "too few signed successes"
    assert not failures, "\n\n".join(f"== {label}\n{text}" for label, text in failures.items())




def test_a_workflow_body_that_is_not_utf8_gets_a_documented_status(reg: RegisterNode) -> None:
    request = httpx.Request("POST", f"{reg.url}/v1/payloads/accept", content=b'{"application_id": "\xff"}',
                            headers={"content-type": "application/json"})
    sign_request(request, reg.identity("gz-registry/intake1"), target=reg.target, created_s=int(time.time()))
    with httpx.Client() as http:
        response = http.send(request)
    assert (response.status_code, response.json()["error"]) == (422, "VALIDATION_FAILED"), response.text
