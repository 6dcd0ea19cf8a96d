"""Certificate numbers in recording order and certificate status as a ledger fact (domain.md §4.2, §6.2).

Registration certificates (不动产证明) and title certificates (不动产权证书) each have one sequence per
registry and year, advanced only by a valid recording tx. A certificate's status follows every later
change of the entry it proves: CANCELLED, SUPERSEDED (change, transfer), CORRECTED, CONVERTED (预告转本).
"""

from __future__ import annotations

from dataclasses import replace

from estatechain.contract import keys
from estatechain.contract.certificate_number import (
    CertificateKind,
    CertificateNumber,
    parse,
    proof_number,
    title_number,
)
from estatechain.contract.civil_date import shanghai_year
from estatechain.contract.context import BlockContext
from estatechain.contract.effects import Effect, Put
from estatechain.contract.records import Certificate, CertificateStatus
from estatechain.contract.view import StateView


def next_numbers(
    view: StateView, ctx: BlockContext, kind: CertificateKind, count: int
) -> tuple[tuple[str, ...], tuple[Effect, ...]]:
    """The next ``count`` numbers of this registry's yearly sequence of ``kind``, and the write that uses them up."""
    year = shanghai_year(ctx.block_time_ms)
    key = (keys.certificate_sequence if kind is CertificateKind.PROOF else keys.title_sequence)(ctx.signer_org, year)
    row = view.get(key)
    last = row.get("last") if row is not None else 0
    first = (last if isinstance(last, int) else 0) + 1
    make = proof_number if kind is CertificateKind.PROOF else title_number
    numbers = tuple(make(year, serial) for serial in range(first, first + count))
    return numbers, (Put(key=key, value={"last": first + count - 1}),)


def next_number(view: StateView, ctx: BlockContext, kind: CertificateKind) -> tuple[str, tuple[Effect, ...]]:
    """The next number of this registry's yearly sequence of ``kind``, and the write that uses it up."""
    numbers, effects = next_numbers(view, ctx, kind, 1)
    return numbers[0], effects


def certificate_key(number: str) -> str | None:
    """The state key of a well-formed Guangzhou number of either kind, or None."""
    for kind in CertificateKind:
        parsed = parse(number, kind, current_year=9999)
        if isinstance(parsed, CertificateNumber):
            make = keys.certificate if kind is CertificateKind.PROOF else keys.title_certificate
            return make(parsed.year, parsed.serial)
    return None


def load(view: StateView, number: str) -> Certificate | None:
    """The certificate record under ``number`` (either kind), or None."""
    key = certificate_key(number)
    record = None if key is None else view.get(key)
    return None if record is None else Certificate.from_json(record)


def new_certificate(number: str, right: str, application_id: str | None, ctx: BlockContext) -> Put:
    """The VALID certificate record of a number assigned in this tx."""
    key = certificate_key(number)
    assert key is not None  # numbers this registry assigns always parse
    row = Certificate(number=number, right=right, application_id=application_id, status=CertificateStatus.VALID,
                      recorded_ms=ctx.block_time_ms, source_txs=(ctx.tx_id,))
    return Put(key=key, value=row.to_json())


def set_status(view: StateView, ctx: BlockContext, number: str | None, status: CertificateStatus) -> tuple[Effect, ...]:
    """The write that gives the certificate ``number`` its new status (nothing when there is none)."""
    if number is None:
        return ()
    key, certificate = certificate_key(number), load(view, number)
    if key is None or certificate is None:
        return ()
    updated = replace(certificate, status=status, source_txs=(*certificate.source_txs, ctx.tx_id))
    return (Put(key=key, value=updated.to_json()),)
