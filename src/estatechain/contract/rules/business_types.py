"""The business types offered at this rule version, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from estatechain.contract.rules import mortgage, mortgage_cancel
from estatechain.contract.rules.business import BusinessType

BUSINESS_TYPES: Final[Mapping[str, BusinessType]] = {
    mortgage.FIRST.name: mortgage.FIRST,
    mortgage_cancel.CANCEL.name: mortgage_cancel.CANCEL,
}
