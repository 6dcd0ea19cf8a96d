"""Rule violations as values, with stable codes (design §3.21).

A code's wire name never changes once released; its English message says what to do. The portal and
CLI localise by code through one message catalogue at the edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class RejectionCode(StrEnum):
    """Stable machine-readable reasons a valid-looking transaction was marked invalid."""

    UNKNOWN_COMMAND = "UNKNOWN_COMMAND"
    MALFORMED_COMMAND = "MALFORMED_COMMAND"
    ROLE_NOT_PERMITTED = "ROLE_NOT_PERMITTED"
    NOTE_EXISTS = "NOTE_EXISTS"
    REVOKE_OTHER_ORG = "REVOKE_OTHER_ORG"
    ALREADY_REVOKED = "ALREADY_REVOKED"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Why a transaction was refused by a rule: ``detail`` names the offending field or value."""

    code: str
    message: str
    detail: Mapping[str, str] = field(default_factory=dict)
