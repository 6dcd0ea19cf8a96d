"""Material references (V24): shape, allowed types and media, completeness."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from estatechain.contract.command import Rejected
from estatechain.contract.records import Material
from estatechain.contract.rejections import RejectionCode
from estatechain.contract.violation import violate

MATERIAL_TYPES: Final = frozenset({
    "APPLICATION_FORM", "POWER_OF_ATTORNEY", "NOTARIAL_CERTIFICATE", "LOAN_CONTRACT", "MORTGAGE_CONTRACT",
    "MAX_MORTGAGE_CONTRACT", "CLAIM_CONTRACT", "PRE_EXISTING_CLAIM_CONSENT", "PAYOFF_PROOF", "WAIVER_STATEMENT",
    "REALISATION_PROOF", "JUDGMENT", "OTHER_PROOF", "CONSENT",
    # advance notices, transfers and corrections (domain.md §5.4-5.9, §5.10)
    "NOTICE_AGREEMENT", "SUPPLEMENTARY_AGREEMENT", "NAME_CHANGE_PROOF", "ASSIGNMENT_AGREEMENT", "MERGER_PROOF",
    "DEBTOR_NOTICE", "ERROR_PROOF", "INTEREST_PROOF", "SALE_CONTRACT", "TAX_PROOF", "DEVELOPER_DEFAULT_PROOF",
    "TERMINATION_AGREEMENT",  # 预售合同解除协议 (rules.presale_terminate)
})
"""Material type codes [A]. Title and notice certificates and identity records are not materials:
the ledger and data sharing supply them, so they are referenced, never uploaded again (条例 24(2))."""

MEDIA_TYPES: Final = frozenset({"application/pdf", "application/ofd", "image/jpeg", "image/png"})
MAX_SIZE: Final = 50 * 1024 * 1024
"""Configured maximum size of one material: 50 MiB [A]."""


def check_v24_material(material: Material, index: int) -> Rejected | None:
    """V24: a known type code, an accepted media type, a size from 1 byte to the maximum."""
    problem = None
    if material.type not in MATERIAL_TYPES:
        problem = f"unknown type code {material.type}"
    elif material.media_type not in MEDIA_TYPES:
        problem = f"media type {material.media_type} is not PDF, OFD, JPEG or PNG"
    elif not 0 < material.size <= MAX_SIZE:
        problem = f"size {material.size} is not between 1 and {MAX_SIZE} bytes"
    if problem is not None:
        return violate(RejectionCode.V24_MATERIAL_INVALID, field=f"materials[{index}]", index=index, problem=problem)
    return None


def check_v24_complete(materials: Iterable[Material], required: Iterable[str]) -> Rejected | None:
    """V24: every required type is present; the rejection lists every missing one at once (条例 17)."""
    present = {material.type for material in materials}
    missing = sorted(set(required) - present)
    if missing:
        return violate(RejectionCode.V24_MATERIAL_MISSING, missing=", ".join(missing))
    return None
