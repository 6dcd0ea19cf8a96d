"""Consortium membership, health and readiness bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OrgOut(BaseModel):
    """A member org as the genesis lists it."""

    id: str
    name: str
    type: str
    roles: list[str] = Field(description="Roles this org's CA may grant.")
    ca_fingerprint: str = Field(description="SHA-256 of the org CA certificate's DER.")


class CallerOut(BaseModel):
    """Who the request was signed by."""

    fingerprint: str
    org_id: str
    org_type: str
    role: str


class MembersOut(BaseModel):
    """The consortium: its chain id, suite and member orgs."""

    consortium: str
    chain_id: str
    suite: str
    orgs: list[OrgOut]
    caller: CallerOut


class HealthOut(BaseModel):
    """Liveness: the process answers and knows its chain; with its org, what a request to it signs as ``tag``."""

    status: str
    chain_id: str
    org_id: str = Field(description="The member org that runs this node: sign every request to it with "
                        'tag="<chain_id>/<org_id>" (docs/api.md).')
    height: int


class ReadyOut(BaseModel):
    """Readiness: the pipeline runs and accepts submissions."""

    status: str
    height: int
    pending: int
