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

A node asking for an applicant tells only the nodes of the orgs the case involves (``case_orgs``:
the filer's org first, then the orgs bound to its organisation applicants): the request names the
case and perhaps a resident, which is nothing for another bank or the court to learn, even in a
request it would refuse. The registry's node names neither and asks every peer in name order.

The bytes are checked against the requested SHA-256 before they are kept, so a peer cannot
substitute a document. Both sides append every exchange to the node's durable record
``<node>/materials/fetches.jsonl`` (``MaterialLog``): the asking node what it fetched (or failed to)
from which org, for which reader, case and resident, and the hash it verified; the answering node
what it gave to which org's node, or refused, and for which case and resident. It is the record an
operator or a court reads to learn which node read which document for whom (docs/operations.md §2).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

from estatechain.audit_log import AuditLog
from estatechain.buckets import TokenBuckets
from estatechain.clock import Clock
from estatechain.contract import keys
from estatechain.contract.checks.parties import org_acts_for
from estatechain.contract.records import Application
from estatechain.contract.rules.governance import revoked_key
from estatechain.contract.view import StateView
from estatechain.errors import EstatechainError
from estatechain.ledger.admission import cert_key
from estatechain.node.outbox import WebhookKey
from estatechain.node.settings import PEER_REFUSAL_BURST, PEER_REFUSALS_PER_MINUTE
from estatechain.sdk import SdkError
from estatechain.sdk.client import Client
from estatechain.sdk.errors import ServerError

log = logging.getLogger(__name__)

FETCH_LOG: Final = "fetches.jsonl"
"""The record's file name, in the node's ``materials/`` folder beside the material store."""


class MaterialLog:
    """The node's append-only record of materials asked of and given to peer nodes (one JSON object a line).

    Kept like the certificate lookups' audit log (``certificates/lookups.py``): node-local, appended
    and fsynced (``audit_log.AuditLog``, off the event loop) before the answer goes out, never
    trimmed. A fetch is not a ledger transaction, and the person it names must not go on the shared
    stream.

    Any member node may ask, and a refusal costs the answering node a fsynced line: so each peer org
    has a budget of refused answers (``refusal_burst`` at once, refilled at ``refusals_per_minute``;
    ``refused``). Past it the node answers 429, and those refusals are counted per minute (the first
    on its own line, ``"outcome": "rate_limited"``, the rest in one line with ``count``). A served
    answer never uses the budget and is never refused by it.
    """

    def __init__(self, clock: Clock, path: Path, *, refusals_per_minute: int = PEER_REFUSALS_PER_MINUTE,
                 refusal_burst: int = PEER_REFUSAL_BURST) -> None:
        self.clock = clock
        self.path = path
        self._log = AuditLog(path, clock)
        self._budget = TokenBuckets(clock, per_minute=refusals_per_minute, burst=refusal_burst)

    async def asked(  # noqa: PLR0913  (keywords only: the record's fields)
        self, sha256: str, *, org: str, outcome: str, reader: str, case: str | None, person: str | None,
        verified: str | None = None, detail: str | None = None,
    ) -> None:
        """Record asking ``org``'s node for ``sha256`` on behalf of ``reader`` (a certificate fingerprint).

        ``outcome`` is ``fetched`` (``verified``: the SHA-256 of the bytes kept), ``refused`` (the peer
        answered with an error status), ``failed`` (no answer; ``detail`` says how for both) or
        ``other_bytes`` (the peer's bytes did not hash to it).
        """
        await self._log.append({"side": "asked", "outcome": outcome, "sha256": sha256, "from_org": org,
                                "reader": reader, "case": case, "person": person, "verified_sha256": verified,
                                "detail": detail})

    async def answered(  # noqa: PLR0913  (keywords only: the record's fields)
        self, sha256: str, *, org: str, node: str, outcome: str, case: str | None, person: str | None,
    ) -> None:
        """Record the answer to ``org``'s node (certificate ``node``): ``served`` (refusals go through ``refused``)."""
        log.info("material %s %s to the node of %s%s%s", sha256, outcome, org, f" for case {case}" if case else "",
                 f" (resident certificate {person})" if person else "")
        await self._log.append({"side": "answered", "outcome": outcome, "sha256": sha256, "to_org": org, "node": node,
                                "case": case, "person": person})

    async def refused(  # noqa: PLR0913  (keywords only: the record's fields)
        self, sha256: str, *, org: str, node: str, outcome: str, case: str | None, person: str | None,
    ) -> int | None:
        """Record refusing ``org``'s node (``refused``: 403, ``not_held``: 404) if its budget allows; None then.

        Past the budget, the seconds until it allows one again (the 429's ``Retry-After``): the refusal
        is recorded as ``rate_limited``, on its own line if it is the org's first in a minute, else
        counted into that minute's line.
        """
        if self._budget.take(org):
            await self.answered(sha256, org=org, node=node, outcome=outcome, case=case, person=person)
            return None
        first = await self._log.refused(
            (org,), {"side": "answered", "outcome": "rate_limited", "sha256": sha256, "to_org": org, "node": node,
                     "case": case, "person": person},
            {"side": "answered", "outcome": "rate_limited", "sha256": None, "to_org": org, "node": None, "case": None,
             "person": None})
        if first:
            log.warning("the node of %s was refused materials more than %d times at once: answering 429 for a while",
                        org, self._budget.burst)
        return max(self._budget.wait_s(org), 1)

    async def close(self) -> None:
        """Write the refusal counts still open (the node is stopping)."""
        await self._log.close()


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


def case_orgs(view: StateView, application: Application) -> tuple[str, ...]:
    """The member orgs the ledger says ``application`` involves: the filer's org first, then its applicants'.

    An applicant's org is the one its organisation party is bound to (``identity.bind_party`` with
    ``org``), in order of org id; a person applicant has none (its materials are uploaded by the filer).
    A developer that uploads a correction's material is one of its applicants, so its node is among
    them. A material uploaded by any other org is not fetched for an applicant: asking every node
    would tell the case to orgs that have nothing to do with it.
    """
    bound = {str(row["org"]) for party in application.applicant_ids()
             if (row := view.get(keys.org_of_party(party))) is not None and row.get("org")}
    return (application.filer_org, *sorted(bound - {application.filer_org}))


def peers_to_ask(view: StateView, peers: Mapping[str, str], *, case: str | None) -> tuple[tuple[str, str], ...]:
    """(org, URL) of the peer nodes to ask for a material, in order: those of ``case_orgs``, or all for no case.

    The registry (no case) asks every peer in name order, naming nothing but the hash. A case the
    ledger does not hold gives no peer: nobody is told of it.
    """
    if case is None:
        return tuple(sorted(peers.items()))
    row = view.get(keys.application(case))
    if row is None:
        return ()
    return tuple((org, peers[org]) for org in case_orgs(view, Application.from_stored(row)) if org in peers)


async def fetch_material(  # noqa: PLR0913  (keywords only)
    sha256: str, *, peers: Sequence[tuple[str, str]], own_org: str, key: WebhookKey, chain_id: str, max_bytes: int,
    record: MaterialLog, reader: str, case: str | None = None, person: str | None = None,
) -> bytes | None:
    """The material's bytes from the first of ``peers`` (org, URL) that holds them, checked against ``sha256``.

    None if none does. ``peers`` come in the order to ask (``peers_to_ask``). ``case`` and ``person``
    go with the request when this node asks for an applicant (the registry's node needs neither):
    the peer checks them against its own ledger before it answers. Each peer asked is recorded in
    ``record`` with ``reader``, the certificate that asked this node.
    """
    identity = key.client_identity()
    query = urlencode({k: v for k, v in (("case", case), ("for", person)) if v is not None})
    path = f"/v1/materials/{sha256}" + (f"?{query}" if query else "")
    why = f" for case {case}" if case else ""
    with tempfile.TemporaryDirectory(prefix="estatechain-material-") as folder:
        target = Path(folder) / sha256
        for org, url in peers:
            if org == own_org:
                continue
            try:
                async with Client(url, identity, chain_id=chain_id, node_org=org, timeout_s=10.0) as peer:
                    size = await peer.download(path, target)
            except (EstatechainError, SdkError) as exc:
                log.info("material %s not fetched from %s%s: %s", sha256, org, why, exc)
                await record.asked(sha256, org=org, outcome="refused" if isinstance(exc, ServerError) else "failed",
                                   reader=reader, case=case, person=person, detail=str(exc))
                continue
            data = target.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if size > max_bytes or digest != sha256:
                log.warning("peer %s answered material %s%s with other bytes; ignored", org, sha256, why)
                await record.asked(sha256, org=org, outcome="other_bytes", reader=reader, case=case, person=person,
                                   detail=f"{size} bytes hashing to {digest}")
                continue
            log.info("material %s fetched from %s%s", sha256, org, why + (f" (resident certificate {person})"
                                                                             if person else ""))
            await record.asked(sha256, org=org, outcome="fetched", reader=reader, case=case, person=person,
                               verified=digest)
            return data
    return None
