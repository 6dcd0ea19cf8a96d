"""One deterministic state key per record: ``namespace/identifier``, never personal data.

Identifiers are unit numbers, ledger-made ids (the tx id that created a record, or an import id) and
party ids, which are keyed hashes (design §3.18). Per-unit index rows (``unitidx/<unit>/<kind>/…``)
list a unit's *current* records in an order the key itself encodes, so a rule reads a unit's
mortgages or seizures with one bounded ``scan`` instead of the whole table.
"""

from __future__ import annotations


def unit(unit_number: str) -> str:
    """The unit record (不动产单元)."""
    return f"unit/{unit_number}"


def ownership(right_id: str) -> str:
    """An ownership right (房屋所有权 / 国有建设用地使用权), current or historic."""
    return f"ownership/{right_id}"


def mortgage(mortgage_id: str) -> str:
    """A mortgage entry (抵押权, table ``DYAQ``), current or historic."""
    return f"mortgage/{mortgage_id}"


def seizure(seizure_id: str) -> str:
    """A seizure (查封), in effect, queued, released or lapsed."""
    return f"seizure/{seizure_id}"


def application(application_id: str) -> str:
    """An application (申请) with its lifecycle."""
    return f"application/{application_id}"


def certificate(year: int, serial: int) -> str:
    """A registration certificate (不动产登记证明) by year and serial of its number."""
    return f"certificate/proof/{year:04d}/{serial:08d}"


def certificate_sequence(registry_org: str, year: int) -> str:
    """The last serial a registry used for registration certificates in ``year``."""
    return f"certseq/{registry_org}/{year:04d}"


def party_of_certificate(fingerprint: str) -> str:
    """Which party id a (pseudonymous) person certificate acts for (identity authority's binding)."""
    return f"identity/party/{fingerprint}"


def org_of_party(party_id: str) -> str:
    """Which member org acts for an organisation's party id (a bank branch's USCC hash)."""
    return f"identity/orgparty/{party_id}"


def unit_index(unit_number: str, kind: str) -> str:
    """Prefix of a unit's index rows of one ``kind`` (ends with ``/`` so scans do not overrun)."""
    return f"unitidx/{unit_number}/{kind}/"


UNIT_INDEX = "unitidx/"


def unit_index_group(prefix: str) -> str:
    """The prefix of all of a unit's index rows when ``prefix`` lies inside them, else ``prefix`` itself.

    For the ledger's block overlay (``state.overlay``): the rules read a unit's index kind by kind, and
    one range read of the unit's whole index (a handful of rows) costs about what one kind's read does.
    """
    if prefix.startswith(UNIT_INDEX):
        end = prefix.find("/", len(UNIT_INDEX))
        if end != -1:
            return prefix[: end + 1]
    return prefix


def unit_ownership(unit_number: str, right_id: str) -> str:
    """Index row: ``right_id`` is a current ownership right of the unit."""
    return f"{unit_index(unit_number, 'ownership')}{right_id}"


def unit_mortgage(unit_number: str, priority_key: str, mortgage_id: str) -> str:
    """Index row of a current mortgage, ordered by priority key (rank order, 细则 67)."""
    return f"{unit_index(unit_number, 'mortgage')}{priority_key}/{mortgage_id}"


def unit_seizure(unit_number: str, queue_order: int, seizure_id: str) -> str:
    """Index row of a seizure in the unit's queue (轮候), kept after release: its end moves the queue."""
    return f"{unit_index(unit_number, 'seizure')}{queue_order:06d}/{seizure_id}"


def unit_application(unit_number: str, application_id: str) -> str:
    """Index row of an application still open on the unit (not yet recorded, refused or withdrawn)."""
    return f"{unit_index(unit_number, 'application')}{application_id}"


def notice(notice_id: str) -> str:
    """An advance notice (预告登记, table ``YGDJ``), current or historic."""
    return f"notice/{notice_id}"


def unit_notice(unit_number: str, priority_key: str, notice_id: str) -> str:
    """Index row of a current advance notice, ordered by priority key (the order of its rank)."""
    return f"{unit_index(unit_number, 'notice')}{priority_key}/{notice_id}"


def presale_contract(contract_id: str) -> str:
    """A pre-sale contract signed by developer and buyers."""
    return f"presale/{contract_id}"


def unit_presale(unit_number: str, contract_id: str) -> str:
    """Index row of a pre-sale contract on a predicted unit."""
    return f"{unit_index(unit_number, 'presale')}{contract_id}"


def title_certificate(year: int, serial: int) -> str:
    """A title certificate (不动产权证书) by year and serial: which ownership right it proves, its status."""
    return f"certificate/title/{year:04d}/{serial:08d}"


def title_sequence(registry_org: str, year: int) -> str:
    """The last serial a registry used for title certificates in ``year`` (its own sequence)."""
    return f"certseq/{registry_org}/{year:04d}/title"


def consent(consent_id: str) -> str:
    """An owner's inquiry consent (the id of the consent tx)."""
    return f"consent/{consent_id}"


def inquiry(inquiry_id: str) -> str:
    """An inquiry-log record (the id of the inquiry tx), granted or refused.

    The only row an inquiry writes: a unit's inquiries have no ``unitidx`` rows, since no rule reads
    them; each node lists them from these records (``web/inquiryindex.py``).
    """
    return f"inquiry/{inquiry_id}"


def shredded(party_id: str) -> str:
    """The mark that a party's sealed personal record was crypto-shredded (its data keys destroyed)."""
    return f"privacy/shredded/{party_id}"


def work_calendar(year: int) -> str:
    """The holiday calendar of ``year`` (public holidays and adjusted working days), set by governance."""
    return f"governance/calendar/{year:04d}"
