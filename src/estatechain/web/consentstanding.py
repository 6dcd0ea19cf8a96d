"""Whether a bank would get a unit's full register on its owners' consents: the owners' consents page.

A bank inquiring on the ``consent`` basis gets the full answer only when every current owner of the
unit has a consent in force to that bank for that purpose (``contract/rules/inquiry.py``). An owner
sees only the consents they gave themself, so a joint owner could not tell whether their consent
does anything: the co-owner's may be missing, revoked or expired. This module counts, per unit,
bank and purpose, how many of the unit's current owners have a consent in force now and whether
that is all of them. It never says who: the page shows numbers only.

Each consent is judged by the contract's own rule (``consent_problem``, ``owners_without_consent``)
on the head block's Guangzhou day, so the page says "yes" exactly when the bank's inquiry with
those consents would be granted. The consents are found through the banks' index by unit and bank
(``consentindex.py``), which holds present and past owners' consents alike; each is read back from
the ledger and judged there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from estatechain.contract import keys
from estatechain.contract.records.inquiry import Consent
from estatechain.contract.rules.inquiry import consent_problem, owners_without_consent
from estatechain.contract.view import StateView
from estatechain.web.consentindex import ConsentIndex


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """One unit, bank and purpose with a consent in force: how many of the owners consented, and whether all."""

    unit_number: str
    bank_org: str
    purpose: str
    owners: int
    """The unit's current owners."""
    consented: int
    """Current owners with a consent in force to this bank for this purpose."""
    full: bool
    """Whether the bank's inquiry with these consents would get the full answer (no owner left over)."""


def standings(view: StateView, index: ConsentIndex, units: Iterable[str], banks: Mapping[str, str],
              today: int) -> list[Standing]:
    """Every (unit, bank, purpose) of ``units`` with a consent in force on ``today``, by unit, bank org, purpose.

    ``banks`` maps each member bank's org to the party a consent to it names (``routes_owner.member_banks``);
    ``today`` is a Guangzhou day number (consents expire by block time, design §3.14).
    """
    found = []
    for unit in units:
        owners = len(owners_without_consent(view, unit, ()))
        for org, party in sorted(banks.items()):
            by_purpose: dict[str, set[str]] = {}
            for consent_id in index.ids(unit, party):
                row = view.get(keys.consent(consent_id))
                if row is None:
                    continue
                given = Consent.from_json(row)
                problem, _ = consent_problem(given, unit_number=unit, requester=party, purpose=given.purpose,
                                             today=today)
                if problem is None:
                    by_purpose.setdefault(given.purpose, set()).add(given.owner)
            for purpose in sorted(by_purpose):
                missing = owners_without_consent(view, unit, by_purpose[purpose])
                found.append(Standing(unit_number=unit, bank_org=org, purpose=purpose, owners=owners,
                                      consented=owners - len(missing), full=not missing))
    return found
