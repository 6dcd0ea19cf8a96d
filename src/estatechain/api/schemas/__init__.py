"""Pydantic request and response bodies of the HTTP API (edge only)."""

from estatechain.api.schemas.blocks import BlockOut, HeaderOut
from estatechain.api.schemas.errors import ErrorOut
from estatechain.api.schemas.members import CallerOut, HealthOut, MembersOut, OrgOut, ReadyOut
from estatechain.api.schemas.proofs import ConsistencyProofOut, InclusionProofOut
from estatechain.api.schemas.transactions import TxStatusOut

__all__ = ["BlockOut", "CallerOut", "ConsistencyProofOut", "ErrorOut", "HeaderOut", "HealthOut", "InclusionProofOut",
           "MembersOut", "OrgOut", "ReadyOut", "TxStatusOut"]
