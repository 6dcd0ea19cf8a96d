"""Materials across a cluster's nodes: a node fetches, for a reader entitled to it, what was uploaded elsewhere.

A material stays with the org that uploaded it (design §3.11): it is never put on a shared medium,
so no org that is not entitled ever holds its bytes, encrypted or not. Two kinds of node ask a
peer for one, each signing the request with its *node* certificate:

- the registry's node, which examines every application: a peer answers because that certificate
  belongs to a registry-type org (the same rule as for any caller);
- the node acting for one of a case's named applicants (domain.md §7: a right holder sees all data
  of their own unit, original materials included) — the identity authority's node for the
  residents whose keys it keeps (design §3.9), a bank's node for its own company party. It names
  the case (``case``) and, for a resident, their certificate (``for``); the peer answers only when
  its own ledger copy shows that case citing the hash and the asking org acting for one of its
  applicants (``may_fetch``), and otherwise says 403 as to anyone else.

The bytes are checked against the requested SHA-256 before they are kept, so a peer cannot
substitute a document. Every fetch and every answer to a node is logged here (``log``), naming
the hash, the peer, the case and the resident: the one place a reader of a node's log looks for
where a material went.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

from estatechain.contract import keys
from estatechain.contract.checks.parties import org_acts_for
from estatechain.contract.records import Application
from estatechain.contract.rules.governance import revoked_key
from estatechain.contract.view import StateView
from estatechain.errors import EstatechainError
from estatechain.ledger.admission import cert_key
from estatechain.node.outbox import WebhookKey
from estatechain.sdk import SdkError
from estatechain.sdk.client import Client

log = logging.getLogger(__name__)


def cites(application: Application, sha256: str) -> bool:
    """Whether ``application`` was filed with the material ``sha256``."""
    return any(m.sha256 == sha256 for m in application.materials)


def keeper_of_person(view: StateView, fingerprint: str) -> tuple[str, str] | None:
    """(party id, org that keeps the key) of person certificate ``fingerprint``; None if unbound or revoked.

    The identity authority binds a resident's certificate to their party (``identity.bind_party``)
    and keeps the key for the portal (design §3.9), so the org whose officer signed the binding is
    the org acting for that resident.
    """
    binding = view.get(keys.party_of_certificate(fingerprint))
    if binding is None or view.get(revoked_key(fingerprint)) is not None:
        return None
    officer = view.get(cert_key(str(binding.get("bound_by", ""))))
    if officer is None:
        return None
    return str(binding["party_id"]), str(officer.get("org", ""))


def acts_for_applicant(view: StateView, application: Application, *, org: str | None, person: str | None) -> bool:
    """Whether ``org`` acts for an organisation applicant, or ``person`` (a certificate) for a person applicant.

    The rule of the portal's ``cases.acts_for``, read from the ledger: an organisation party bound to
    the org (``org``: None skips it), or a person bound to an applicant — and, when ``org`` is given,
    bound by that org (it keeps the person's key and asks on their behalf).
    """
    applicants = application.applicant_ids()
    if org is not None and any(org_acts_for(view, org, party) for party in sorted(applicants)):
        return True
    if person is None:
        return False
    bound = keeper_of_person(view, person)
    return bound is not None and bound[0] in applicants and (org is None or bound[1] == org)


def may_fetch(view: StateView, *, org: str | None, case: str, sha256: str, person: str | None) -> bool:
    """Whether a reader for ``org`` or ``person`` may be given material ``sha256`` for case ``case``, by this ledger.

    True when the case exists, cites the hash, and ``org`` acts for one of its applicants (itself, or
    for the resident ``person`` whose key it keeps), or — ``org`` None — the resident ``person`` is one
    (``acts_for_applicant``). Anything else is False, and the caller answers as for any org that may
    not read: it learns nothing about the case.
    """
    row = view.get(keys.application(case))
    if row is None:
        return False
    application = Application.from_json(row)
    return cites(application, sha256) and acts_for_applicant(view, application, org=org, person=person)


def answered(sha256: str, *, org: str, case: str | None, person: str | None) -> None:
    """Log that this node gave material ``sha256`` to the node of ``org`` (for case ``case`` and resident)."""
    log.info("material %s given to the node of %s%s%s", sha256, org, f" for case {case}" if case else "",
             f" (resident certificate {person})" if person else "")


async def fetch_material(  # noqa: PLR0913  (keywords only)
    sha256: str, *, peers: Mapping[str, str], own_org: str, key: WebhookKey, chain_id: str, max_bytes: int,
    case: str | None = None, person: str | None = None,
) -> bytes | None:
    """The material's bytes from the first peer that holds them (checked against ``sha256``); None if none does.

    ``case`` and ``person`` go with the request when this node asks for an applicant (the registry's
    node needs neither): the peer checks them against its own ledger before it answers.
    """
    identity = key.client_identity()
    query = urlencode({k: v for k, v in (("case", case), ("for", person)) if v is not None})
    path = f"/v1/materials/{sha256}" + (f"?{query}" if query else "")
    why = f" for case {case}" if case else ""
    with tempfile.TemporaryDirectory(prefix="estatechain-material-") as folder:
        target = Path(folder) / sha256
        for org, url in sorted(peers.items()):
            if org == own_org:
                continue
            try:
                async with Client(url, identity, chain_id=chain_id, node_org=org, timeout_s=10.0) as peer:
                    size = await peer.download(path, target)
            except (EstatechainError, SdkError) as exc:
                log.info("material %s not fetched from %s%s: %s", sha256, org, why, exc)
                continue
            data = target.read_bytes()
            if size > max_bytes or hashlib.sha256(data).hexdigest() != sha256:
                log.warning("peer %s answered material %s%s with other bytes; ignored", org, sha256, why)
                continue
            log.info("material %s fetched from %s%s", sha256, org, why + (f" (resident certificate {person})"
                                                                             if person else ""))
            return data
    return None
