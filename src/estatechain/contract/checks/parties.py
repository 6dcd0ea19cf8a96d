"""Party checks: who the signer acts for (V7) and whether the mortgagors may burden the unit (V6)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from estatechain.contract import keys
from estatechain.contract.command import Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.records import Application, Capacity, CoOwnership, OwnershipRight
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

STATUTORY_SHARE_QUORUM = (2, 3)
"""按份共有: co-owners holding at least 2/3 of the shares may burden the property (民法典 301) [S]."""


def party_of_signer(view: StateView, signer: str) -> tuple[str, str | None] | None:
    """(party id, real-name authentication ref) the identity authority bound to a person certificate."""
    record = view.get(keys.party_of_certificate(signer))
    if record is None:
        return None
    auth_ref = record.get("auth_ref")
    return str(record["party_id"]), auth_ref if isinstance(auth_ref, str) else None


def org_acts_for(view: StateView, org: str, party_id: str) -> bool:
    """Whether member ``org`` is bound to the organisation ``party_id`` (a bank branch's USCC hash)."""
    record = view.get(keys.org_of_party(party_id))
    return record is not None and record.get("org") == org


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """The applicant a signer acts for in this step, and how."""

    party_id: str
    auth_ref: str | None
    by_proxy: bool


def resolve_actor(view: StateView, ctx: BlockContext, application: Application, party_id: str) -> Actor | Rejected:
    """V7: the signer may act for applicant ``party_id`` with their own key, or a bank as notarised proxy.

    A person's certificate acts for the party the identity authority bound it to; a bank approver acts
    for an organisation party bound to its org, or for a person whose notarised power of attorney is
    recorded on the application and whose application the same bank filed (细则 12(3)).
    """
    applicant = next((a for a in application.applicants if a.party.party_id == party_id), None)
    if applicant is None:
        return violate(RejectionCode.V7_NOT_AN_APPLICANT, party_id=party_id,
                       application_id=application.application_id)
    if ctx.signer_role == "person":
        return _person_actor(view, ctx, application, party_id)
    if org_acts_for(view, ctx.signer_org, party_id):
        return Actor(party_id=party_id, auth_ref=None, by_proxy=False)
    if applicant.capacity is Capacity.MORTGAGEE:
        return violate(RejectionCode.V7_NOT_AN_APPLICANT, party_id=party_id,
                       application_id=application.application_id)
    if applicant.proxy_notarial_sha256 is None or ctx.signer_org != application.filer_org:
        return violate(RejectionCode.V7_PROXY_NOT_NOTARISED, party_id=party_id)
    return Actor(party_id=party_id, auth_ref=applicant.proxy_notarial_sha256, by_proxy=True)


def _person_actor(view: StateView, ctx: BlockContext, application: Application, party_id: str) -> Actor | Rejected:
    bound = party_of_signer(view, ctx.signer)
    if bound is None:
        return violate(RejectionCode.V7_SIGNER_NOT_BOUND, signer=ctx.signer)
    if bound[0] != party_id:
        return violate(RejectionCode.V7_NOT_AN_APPLICANT, party_id=party_id, application_id=application.application_id)
    return Actor(party_id=party_id, auth_ref=bound[1], by_proxy=False)


def signer_party(view: StateView, ctx: BlockContext) -> str | None:
    """The party a signer speaks for: a person's bound party, or None for an org key (see ``org_acts_for``)."""
    if ctx.signer_role != "person":
        return None
    bound = party_of_signer(view, ctx.signer)
    return None if bound is None else bound[0]


def acts_for(view: StateView, ctx: BlockContext, party_id: str) -> bool:
    """Whether the signer speaks for ``party_id``: as the bound person, or as the org bound to it."""
    if ctx.signer_role == "person":
        return signer_party(view, ctx) == party_id
    return org_acts_for(view, ctx.signer_org, party_id)


def check_filer(view: StateView, ctx: BlockContext, application: Application,
                capacities: Collection[Capacity]) -> Rejected | None:
    """The filer acts for at least one applicant in one of ``capacities`` (a bank for its own bank party …)."""
    for applicant in application.applicants:
        if applicant.capacity in capacities and acts_for(view, ctx, applicant.party.party_id):
            return None
    return violate(RejectionCode.FILER_NOT_APPLICANT, org=ctx.signer_org,
                   capacities=", ".join(sorted(capacity.value for capacity in capacities)))


def _at_least(numerator: int, denominator: int, quorum: tuple[int, int]) -> bool:
    return numerator * quorum[1] >= quorum[0] * denominator


def check_v6_mortgagors(right: OwnershipRight, mortgagors: frozenset[str]) -> Rejected | None:
    """V6: mortgagors are current owners, and enough of them (all joint owners; ≥ 2/3 of the shares).

    A recorded co-owners' agreement (``agreed_threshold``) replaces the statutory quorum: as a share of
    the holdings for 按份共有, as a head count for 共同共有 [A: 民法典 301 "unless agreed otherwise"].
    """
    owners = right.holder_ids()
    for party_id in sorted(mortgagors - owners):
        return violate(RejectionCode.V6_MORTGAGOR_NOT_OWNER, party_id=party_id, unit_number=right.unit_number)
    problem = None
    if right.form is CoOwnership.SHARES:
        quorum = right.agreed_threshold or STATUTORY_SHARE_QUORUM
        numerator, denominator = 0, 1
        for holder in right.holders:
            if holder.party.party_id in mortgagors:
                numerator = numerator * holder.share_denominator + holder.share_numerator * denominator
                denominator *= holder.share_denominator
        if not _at_least(numerator, denominator, quorum):
            problem = f"their shares are below {quorum[0]}/{quorum[1]}"
    elif right.agreed_threshold is not None:
        if not _at_least(len(mortgagors), len(owners), right.agreed_threshold):
            problem = "fewer co-owners than the recorded agreement requires"
    elif owners - mortgagors:
        problem = f"{len(owners - mortgagors)} registered owner(s) not named"
    if problem is not None:
        return violate(RejectionCode.V6_CO_OWNERS_MISSING, unit_number=right.unit_number, problem=problem)
    return None
