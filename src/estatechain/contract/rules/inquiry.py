"""Inquiry of registration results (查询登记结果, domain.md §7) and owners' consents.

``inquiry.request`` names one unit, by unit number or by a certificate number (title or
registration certificate), never by a person (条例 27-28; 查询办法, one unit per application). Its
basis decides the answer [S: 查询办法 / A for banks]:

* ``own_right`` — the requester holds a current right on the unit (owner, mortgagee, notice holder):
  FULL; an owner querying its own unit states no purpose (细则 98);
* ``consent`` — every current owner's valid consent (``inquiry.consent``: this unit, this bank, this
  purpose, not expired, not revoked): FULL;
* ``interest`` — an interested party's evidence (sale, lease or mortgage contract, a suit): FULL, the
  evidence hash logged [A: the registry's node checks the document before it releases the answer];
* ``intent`` — someone who intends to buy, rent or lend against the unit: LIMITED (yes/no flags);
* ``case`` — a court or other state organ for a case: FULL.

A request of the wrong shape (a name or ID search, several units, no purpose) is rejected and
changes nothing (V26). A well-formed request always writes its inquiry-log record, also when
entitlement fails: a refused inquiry is a valid tx with outcome REFUSED, so the owner sees it (design
§3.14). That record is the only state row an inquiry writes. It names the unit (also when asked by
certificate number), and the unit's list of who looked is derived from the records by each node
(``web/inquiryindex.py``): no rule reads that list, and a second row per inquiry, the per-unit index
row it once wrote, cost about a tenth of the registration mix's CPU per transaction. An expired or
revoked consent is refused with the limited answer offered instead (V26). The registry's node releases
the answer only after the tx commits as GRANTED (design §3.19); the log names the sections it may release.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Final

from estatechain.contract import keys
from estatechain.contract.certificate_number import normalise
from estatechain.contract.certificates import load
from estatechain.contract.checks.notices import current_notices
from estatechain.contract.checks.parties import acts_for, org_acts_for, party_of_signer, signer_party
from estatechain.contract.checks.register import current_mortgages
from estatechain.contract.checks.unit import check_v1_unit_number, current_ownership, load_unit
from estatechain.contract.civil_date import parse_iso_date, shanghai_day
from estatechain.contract.command import Accepted, Command, Outcome, Rejected
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Emit, Put, Record
from estatechain.contract.records import PURCHASE_KINDS, Answer, Consent, FieldError, InquiryLog, Status, fields
from estatechain.contract.records import Outcome as Result
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.rule import Rule
from estatechain.contract.rules.guard import guarded
from estatechain.contract.view import StateView
from estatechain.contract.violation import violate

PURPOSES: Final = frozenset({"PRE_LOAN", "POST_LOAN", "TRANSACTION", "LEASE", "LITIGATION", "CASE", "OTHER"})
"""Purpose codes [A: ours; 查询办法 asks for the purpose, not for a code list]."""
BASES: Final = frozenset({"own_right", "consent", "interest", "intent", "case"})
INTEREST_KINDS: Final = frozenset({"SALE", "LEASE", "MORTGAGE_CONTRACT", "LITIGATION", "ARBITRATION"})
FULL: Final = ("unit", "owners", "ownership_form", "mortgages", "notices", "seizures", "objections")
LIMITED: Final = ("unit", "co_ownership", "mortgage_flag", "notice_flag", "objection_flag", "seizure_flag",
                  "residence_right_flag")
"""What a limited answer may say (查询办法 21(3), 2025 text) [S]."""
PERSON_SEARCH_KEYS: Final = ("name", "party_id", "id_number", "id_type", "owner")


def _check_expiry(expires_on: str, ctx: BlockContext) -> Rejected | None:
    """V11: a valid date, not before the day the consent is given."""
    day = parse_iso_date(expires_on)
    if day is None:
        return violate(RejectionCode.V11_DATE_INVALID, field="expires_on", value=expires_on)
    if day < shanghai_day(ctx.block_time_ms):
        return violate(RejectionCode.V11_TERM_INVALID, field="expires_on", start="today", end=expires_on,
                       problem="a consent cannot expire before it is given")
    return None


def consent(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """A current owner consents that one bank may query this unit for one purpose until a date."""
    body = command.body
    if rejected := check_v1_unit_number(body.get("unit_number")):
        return rejected
    unit_number = str(body["unit_number"])
    bound = party_of_signer(view, ctx.signer)
    if bound is None:
        return violate(RejectionCode.V7_SIGNER_NOT_BOUND, signer=ctx.signer)
    right = current_ownership(view, unit_number)
    if right is None or bound[0] not in right.holder_ids():
        return violate(RejectionCode.V26_INQUIRY_NOT_ENTITLED, field="party_id",
                       problem="only a current owner of the unit can consent to an inquiry")
    expires_on = fields.text(body, "expires_on", max_len=10)
    if rejected := _check_expiry(expires_on, ctx):
        return rejected
    bank_party = fields.hex64(body, "bank_party")
    if view.get(keys.org_of_party(bank_party)) is None:
        return violate(RejectionCode.ACTOR_NOT_PARTY, field="bank_party", org="no member org", party_id=bank_party)
    record = Consent(consent_id=ctx.tx_id, unit_number=unit_number, owner=bound[0], bank_party=bank_party,
                     purpose=fields.choice(body, "purpose", PURPOSES), expires_on=expires_on,
                     given_ms=ctx.block_time_ms, source_txs=(ctx.tx_id,))
    return Accepted(effects=(Put(key=keys.consent(record.consent_id), value=record.to_json()),))


def revoke_consent(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """The owner who gave a consent withdraws it from this block on."""
    consent_id = fields.ident(command.body, "consent_id")
    record = view.get(keys.consent(consent_id))
    if record is None:
        return violate(RejectionCode.RECORD_NOT_FOUND, field="consent_id", kind="consent", id=consent_id)
    given = Consent.from_json(record)
    if signer_party(view, ctx) != given.owner:
        return violate(RejectionCode.ACTOR_NOT_PARTY, org=ctx.signer, party_id=given.owner)
    if given.revoked_ms is not None:
        raise FieldError("consent_id", "is already revoked")
    revoked = replace(given, revoked_ms=ctx.block_time_ms, source_txs=(*given.source_txs, ctx.tx_id))
    return Accepted(effects=(Put(key=keys.consent(consent_id), value=revoked.to_json()),))


def _lookup(view: StateView, body: Record) -> tuple[str, str, str] | Rejected:
    """(lookup kind, value, unit number): one unit, by unit number or certificate number (V26)."""
    if any(key in body for key in PERSON_SEARCH_KEYS):
        return violate(RejectionCode.V26_SEARCH_NOT_BY_PROPERTY, problem="a search by a person's name or ID is "
                       "not allowed")
    given = [key for key in ("unit_number", "certificate_number", "units") if key in body]
    if given == ["unit_number"] and isinstance(body["unit_number"], str):
        if rejected := check_v1_unit_number(body["unit_number"]):
            return rejected
        unit = load_unit(view, str(body["unit_number"]))
        return unit if isinstance(unit, Rejected) else ("unit_number", unit.unit_number, unit.unit_number)
    if given == ["certificate_number"] and isinstance(body["certificate_number"], str):
        number = normalise(body["certificate_number"])
        certificate = load(view, number)
        right = None if certificate is None else view.get(certificate.right)
        if right is None:
            return violate(RejectionCode.RECORD_NOT_FOUND, field="certificate_number", kind="certificate", id=number)
        return "certificate_number", number, str(right["unit_number"])
    return violate(RejectionCode.V26_SEARCH_NOT_BY_PROPERTY, problem="name exactly one unit per request")


def _holders(view: StateView, unit_number: str) -> tuple[frozenset[str], frozenset[str]]:
    """(current owners, holders of current mortgages and notices) of the unit."""
    right = current_ownership(view, unit_number)
    owners = right.holder_ids() if right is not None else frozenset()
    holders = {p for m in current_mortgages(view, unit_number) for p in m.mortgagee_ids()}
    holders |= {p for n in current_notices(view, unit_number) for p in n.holder_ids()}
    return owners, frozenset(holders)


def _consents(view: StateView, ctx: BlockContext, body: Record, unit_number: str,
              requester: str | None) -> tuple[str | None, bool]:
    """(problem, whether the limited answer is offered instead) for a consent-based request."""
    today = shanghai_day(ctx.block_time_ms)
    owners: set[str] = set()
    for consent_id in fields.texts(body, "consent_ids", high=20):
        record = view.get(keys.consent(consent_id))
        if record is None:
            return f"consent {consent_id} does not exist", False
        given = Consent.from_json(record)
        problem, offered = consent_problem(given, unit_number=unit_number, requester=requester,
                                           purpose=body.get("purpose"), today=today)
        if problem is not None:
            return problem, offered
        owners.add(given.owner)
    if not _holders(view, unit_number)[0]:
        # nobody can consent for a unit without a current owner (a pre-sale flat, a unit replaced by its
        # surveyed successor): "every current owner consented" would hold of the empty set and grant it
        return "the unit has no current owner whose consent could entitle the requester", False
    if missing := owners_without_consent(view, unit_number, owners):
        return f"{len(missing)} current owner(s) have not consented", False
    return None, False


def consent_problem(given: Consent, *, unit_number: str, requester: str | None, purpose: object,
                    today: int) -> tuple[str | None, bool]:
    """Why ``given`` does not let ``requester`` read the unit for ``purpose`` on ``today`` (None: it does).

    The second value says whether the limited answer is offered instead (a revoked or expired
    consent, V26). One consent's part of the ``consent`` basis: the owner's portal page asks the
    same question of each consent to show whether a bank would get the full answer, so the two can
    never disagree on what "in force" means.
    """
    if given.unit_number != unit_number or given.bank_party != requester or given.purpose != purpose:
        return f"consent {given.consent_id} does not cover this unit, requester and purpose", False
    if given.revoked_ms is not None:
        return f"consent {given.consent_id} was revoked", True
    if (parse_iso_date(given.expires_on) or 0) < today:
        return f"consent {given.consent_id} expired on {given.expires_on}", True
    return None, False


def owners_without_consent(view: StateView, unit_number: str, consenting: Iterable[str]) -> frozenset[str]:
    """The unit's current owners not among ``consenting``: the ``consent`` basis needs none left over.

    A past owner's consent counts for nothing (it is not among the current owners), and every
    current owner, joint or by shares, must have consented.
    """
    return _holders(view, unit_number)[0] - frozenset(consenting)


def _requester(view: StateView, ctx: BlockContext, body: Record) -> str | Rejected | None:
    """The party the requester speaks for: a person's bound party, or the org's party it names."""
    if ctx.signer_role == "person":
        return signer_party(view, ctx)
    party = fields.opt_pattern(body, "requester_party", fields.HEX64, what="64 lower-case hex characters")
    if party is None and body.get("basis") in ORG_PARTY_BASES:
        # an org's own right or consent is the right or consent of the party it names: without one the
        # request can never be granted, so it is a malformed request (changes nothing, logs nothing)
        # rather than a refusal shown to the owner as this org having looked without a right
        raise FieldError("requester_party", "is required when an organisation inquires on its own right or a "
                                            "consent: name the party the organisation inquires as")
    if party is not None and not org_acts_for(view, ctx.signer_org, party):
        return violate(RejectionCode.ACTOR_NOT_PARTY, field="requester_party", org=ctx.signer_org, party_id=party)
    return party


def _decide(view: StateView, ctx: BlockContext, body: Record, unit_number: str,
            requester: str | None) -> tuple[Answer | None, str | None, bool]:
    """(answer, refusal problem, limited offered) for the request's basis."""
    basis = fields.choice(body, "basis", BASES)
    if basis == "own_right":  # the only basis that needs the unit's right holders (consent reads its owners)
        owners, holders = _holders(view, unit_number)
        entitled = requester is not None and requester in owners | holders
        refused = "the requester holds no current right on the unit"
        return (Answer.FULL, None, False) if entitled else (None, refused, True)
    if basis == "consent":
        problem, offered = _consents(view, ctx, body, unit_number, requester)
        return (None, problem, offered) if problem else (Answer.FULL, None, False)
    if basis == "interest":
        fields.hex64(body, "evidence_sha256")
        fields.choice(body, "interest_kind", INTEREST_KINDS)
        return Answer.FULL, None, False
    if basis == "case":
        fields.text(body, "case_no", max_len=100)
        if ctx.signer_role in {"court", "state_organ"}:
            return Answer.FULL, None, False
        return None, "only a court or state organ queries for a case", False
    return Answer.LIMITED, None, False


def request(view: StateView, ctx: BlockContext, command: Command) -> Outcome:
    """One inquiry: rejected if malformed (V26 shape), else logged as GRANTED or REFUSED (V26 entitlement)."""
    body = command.body
    found = _lookup(view, body)
    if isinstance(found, Rejected):
        return found
    lookup, value, unit_number = found
    requester = _requester(view, ctx, body)
    if isinstance(requester, Rejected):
        return requester
    purpose = fields.opt_text(body, "purpose", max_len=32)
    own_unit = body.get("basis") == "own_right" and requester in _holders(view, unit_number)[0]
    if purpose is None and not own_unit:
        return violate(RejectionCode.V26_PURPOSE_REQUIRED)
    if purpose is not None:
        fields.choice(body, "purpose", PURPOSES)
    answer, problem, offered = _decide(view, ctx, body, unit_number, requester)
    refs = [str(body[key]) for key in ("evidence_sha256", "case_no") if isinstance(body.get(key), str)]
    log = InquiryLog(
        inquiry_id=ctx.tx_id, unit_number=unit_number, requester=ctx.signer, requester_org=ctx.signer_org,
        requester_role=ctx.signer_role, requester_party=requester, lookup=lookup, lookup_value=value,
        basis=fields.choice(body, "basis", BASES),
        basis_refs=(*fields.texts(body, "consent_ids", high=20), *refs) if "consent_ids" in body else tuple(refs),
        purpose=purpose, outcome=Result.GRANTED if answer else Result.REFUSED, answer=answer,
        released=(FULL if answer is Answer.FULL else LIMITED if answer is Answer.LIMITED else ()),
        as_of_height=ctx.height, at_ms=ctx.block_time_ms,
        code=None if answer else RejectionCode.V26_INQUIRY_NOT_ENTITLED.value, field=None if answer else "basis",
        problem=problem, offered=Answer.LIMITED if offered else None,
    )
    return Accepted(effects=(
        Put(key=keys.inquiry(log.inquiry_id), value=log.to_json()),
        Emit(name="inquiry.logged", data={"inquiry_id": log.inquiry_id, "outcome": log.outcome.value,
                                          "unit_number": unit_number}),
    ))


def log_readers(view: StateView, unit_number: str) -> frozenset[str]:
    """The parties who may list who looked at the unit: its current owners and its buyers.

    domain.md §2 gives "owner / buyer / co-owners" the right to see who queried their unit. A pre-sale
    buyer holds a current purchase notice (预购商品房预告登记, YGDJZL 1 or 2) on the flat, not the
    ownership, which the developer keeps until the transfer; without the notice's holders here a
    buyer could not see which banks looked at the flat they are paying for. Holders of mortgages and
    mortgage notices are not readers: they are the banks whose looking the log shows.
    """
    buyers = {p for n in current_notices(view, unit_number)
              if n.kind in PURCHASE_KINDS and n.status is Status.CURRENT for p in n.holder_ids()}
    return _holders(view, unit_number)[0] | buyers


def may_list(view: StateView, ctx: BlockContext, unit_number: str) -> bool:
    """Whether the signer may list the unit's inquiries: a reader (``log_readers``), or the regulator's auditor [A]."""
    return ctx.signer_role == "auditor" or any(acts_for(view, ctx, party)
                                               for party in log_readers(view, unit_number))


ORG_PARTY_BASES: Final = frozenset({"own_right", "consent"})
"""Bases judged against the party the request speaks for: an organisation must name it (``requester_party``)."""
REQUESTERS: Final = frozenset({"bank.operator", "bank.approver", "person", "court", "state_organ"})

RULES: Final = {
    "inquiry.consent": Rule(roles=frozenset({"person"}), decide=guarded(consent)),
    "inquiry.consent_revoke": Rule(roles=frozenset({"person"}), decide=guarded(revoke_consent)),
    "inquiry.request": Rule(roles=REQUESTERS, decide=guarded(request)),
}
