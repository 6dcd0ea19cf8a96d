"""The business types offered at this rule version, by name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from estatechain.contract.rules import (
    conversion,
    mortgage,
    mortgage_cancel,
    mortgage_notice,
    notice_change,
    notice_correct,
    notice_end,
    ownership_transfer,
    presale_terminate,
    purchase_notice,
    transfer_mortgage,
)
from estatechain.contract.rules.business import BusinessType

BUSINESS_TYPES: Final[Mapping[str, BusinessType]] = {
    mortgage.FIRST.name: mortgage.FIRST,
    mortgage_cancel.CANCEL.name: mortgage_cancel.CANCEL,
    purchase_notice.FIRST.name: purchase_notice.FIRST,
    mortgage_notice.FIRST.name: mortgage_notice.FIRST,
    conversion.CONVERT.name: conversion.CONVERT,
    ownership_transfer.TRANSFER.name: ownership_transfer.TRANSFER,
    notice_change.CHANGE.name: notice_change.CHANGE,
    notice_change.TRANSFER.name: notice_change.TRANSFER,
    notice_correct.CORRECT.name: notice_correct.CORRECT,
    notice_end.CANCEL.name: notice_end.CANCEL,
    presale_terminate.TERMINATE.name: presale_terminate.TERMINATE,
    transfer_mortgage.TRANSFER_MORTGAGE.name: transfer_mortgage.TRANSFER_MORTGAGE,
}
