"""The registry-signed answer of a GRANTED inquiry (domain.md §7, design §3.19), for the API and the portal alike.

An answer is built from the register as it stood at the inquiry's block (the row history), limited
to the sections the contract's log record names (FULL or LIMITED), and signed by the registry's
``node`` identity over RFC 8785 bytes carrying the type tag ``estatechain.inquiry-answer.v1``, the
chain id and the height — so the same answer comes back after a restart and verifies nowhere else.
It lives in the node, not in an HTTP route, so that the bank's portal desk gets the very document
the API returns without calling its own node over HTTP. Who may have it is the caller's decision
(the API: the requester's org; the portal: the signed-in clerk's org); this module only builds and
signs it.
"""

from __future__ import annotations

import base64
from typing import Final

from estatechain import canonical
from estatechain.canonical import JSONValue
from estatechain.contract import keys
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.checks.unit import current_ownership
from estatechain.contract.seizure_queue import pending_or_in_effect, unit_seizures
from estatechain.contract.view import StateView
from estatechain.errors import Unavailable
from estatechain.identity.devca import Identity
from estatechain.node.service import NodeService
from estatechain.storage.asof import StateAsOf

ANSWER_TYPE: Final = "estatechain.inquiry-answer.v1"
REGISTRY_TYPE: Final = "registry"
LIMITED_UNIT_FIELDS: Final = ("unit_number", "use", "kind", "area_centi_m2", "location_code")
"""What a limited answer says of the unit itself: what it is, not whose it is or what burdens it."""


def answer_identity(service: NodeService) -> Identity:
    """The registry node's own ``node`` identity, from the node's keys (its keystore or the dev layout).

    Raises:
        Unavailable: this node holds no registry ``node`` identity to sign answers with.

    """
    org = service.keys.org_id
    org_type = next((o.type for o in service.genesis.orgs if o.id == org), None)
    identity = service.keys.identity("node") if org_type == REGISTRY_TYPE else None
    if identity is None:
        raise Unavailable(f"this node ({org}) holds no registry node key, so it cannot sign inquiry answers; "
                          "ask the registry's node")
    return identity


def _full(view: StateView, unit_number: str, time_ms: int) -> dict[str, JSONValue]:
    right = current_ownership(view, unit_number)
    seizures: list[JSONValue] = [dict(s.to_json()) for s in unit_seizures(view, unit_number)]
    unit = view.get(keys.unit(unit_number))
    return {
        "unit": None if unit is None else dict(unit),
        "owners": [] if right is None else [h.to_json() for h in right.holders],
        "ownership_form": None if right is None else right.form.value,
        "title_number": None if right is None else right.title_number,
        "mortgages": [m.to_json() for m in current_mortgages(view, unit_number)],
        "notices": [n.to_json() for n in current_notices(view, unit_number)],
        "seizures": seizures,
        "seizure_in_effect_or_queued": pending_or_in_effect(view, unit_number, time_ms),
        "objections": [],
    }


def _limited(view: StateView, unit_number: str, time_ms: int) -> dict[str, JSONValue]:
    unit = view.get(keys.unit(unit_number)) or {}
    right = current_ownership(view, unit_number)
    return {
        "unit": {k: unit[k] for k in LIMITED_UNIT_FIELDS if k in unit},
        "co_ownership": right is not None and len(right.holders) > 1,
        "mortgage_flag": bool(current_mortgages(view, unit_number)),
        "notice_flag": bool(current_notices(view, unit_number)),
        "objection_flag": False,
        "seizure_flag": pending_or_in_effect(view, unit_number, time_ms),
        "residence_right_flag": False,
    }


def build_answer(service: NodeService, record: dict[str, JSONValue], signer: Identity) -> dict[str, JSONValue]:
    """The answer document for a GRANTED inquiry's log ``record``, as of the inquiry's height."""
    height = int(str(record["as_of_height"]))
    block = service.block(height)
    unit_number = str(record["unit_number"])
    view = StateAsOf(service.store, height)
    full = record["answer"] == "FULL"
    sections = (_full if full else _limited)(view, unit_number, block.header.time_ms)
    released = record.get("released")
    names = {str(n) for n in released} if isinstance(released, list) else set()
    names |= {"unit", "title_number", "seizure_in_effect_or_queued"} if full else {"unit"}
    return {
        "type": ANSWER_TYPE, "chain_id": service.genesis.chain_id, "inquiry_id": str(record["inquiry_id"]),
        "height": height, "block_hash": block.block_hash, "time_ms": block.header.time_ms,
        "unit_number": unit_number, "answer": record["answer"], "basis": record["basis"],
        "purpose": record["purpose"], "requester": record["requester"], "requester_org": record["requester_org"],
        "result": {k: v for k, v in sections.items() if k in names}, "signer": signer.fingerprint,
        "registry": signer.org_id,
    }


def signed_answer(service: NodeService, record: dict[str, JSONValue], signer: Identity
                  ) -> dict[str, str | dict[str, JSONValue]]:
    """The answer with its canonical bytes, the registry node's signature over them and its certificate (base64)."""
    document = build_answer(service, record, signer)
    data = canonical.encode(document)
    return {"answer": document, "canonical": data.decode("utf-8"),
            "signature": base64.b64encode(service.suite.sign(signer.private_key, data)).decode("ascii"),
            "certificate": base64.b64encode(signer.cert_der).decode("ascii")}
