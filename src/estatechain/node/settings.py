"""Settings of one org node, built once at start-up and passed down (style §6.7: nothing at import time).

Values come from keyword arguments first, then ``ESTATECHAIN_*`` environment variables, then the
defaults below. The API listens on loopback unless told otherwise: a development node holds every
org's keys in one folder and must not be reachable from the network by accident.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Final

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PEER_REFUSAL_BURST: Final = 600
"""Default of ``Settings.peer_refusal_burst`` (and of ``peers.MaterialLog``'s budget)."""
PEER_REFUSALS_PER_MINUTE: Final = 300
"""Default of ``Settings.peer_refusals_per_minute``."""


class Settings(BaseSettings):
    """Where the node's ledger is, where it listens and the limits it applies to HTTP callers."""

    model_config = SettingsConfigDict(env_prefix="ESTATECHAIN_", frozen=True, extra="forbid")

    ledger_dir: Path = Field(description="Directory holding the node's ledger.sqlite.")
    host: str = Field(default="127.0.0.1", description="Interface the API binds to (loopback by default).")
    port: int = Field(default=8700, ge=0, le=65535, description="TCP port of the API (0 picks a free port).")
    max_body_bytes: int = Field(default=256 * 1024, gt=0, description="Largest request body accepted (413 above), "
                                "uploads aside.")
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, gt=0, description="Largest body of an upload: a "
                                  "material (POST /v1/materials; V24 allows 50 MiB a material) or the portal's "
                                  "filing form with its materials (413 above).")
    signature_max_age_s: int = Field(default=300, gt=0, description="Oldest signature accepted.")
    clock_skew_s: int = Field(default=5, ge=0, description="Tolerance for callers' clocks running ahead or behind.")
    nonce_cache_entries: int = Field(default=1_000_000, gt=0, description="Nonces kept for replay checks.")
    max_wait_s: float = Field(default=30.0, ge=0, description="Longest ?wait= on a submission.")
    org_id: str | None = Field(default=None, description="The member org this node belongs to (cluster mode).")
    nats_servers: tuple[str, ...] = Field(default=(), description="NATS URLs; set to run as a cluster node.")
    nats_credentials: Path | None = Field(default=None, description="The org's NATS credentials file (JSON).")
    party_id_key: Path | None = Field(default=None, description="The identity authority's party-id HMAC key "
                                      "(its node serves party-id lookups, design §3.18); dev layout found alone.")
    peers: dict[str, str] = Field(default_factory=dict, description="Other member nodes' API URLs by org id: "
                                  "where the registry's node fetches materials uploaded elsewhere.")
    keystore: Path | None = Field(default=None, description="The org's keystore folder (identity/keystore.py); "
                                  "without it the node looks for the development layout around its ledger.")
    keystore_passphrase_file: Path | None = Field(default=None, description="A file (mode 0600) whose first line "
                                                  "opens the keystore; else ESTATECHAIN_KEYSTORE_PASSPHRASE.")
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#@]+(/[^\s?#]*)?$",
                                   description="The address residents and banks reach this node's public "
                                   "certificate check at, printed in certificate QR codes (e.g. "
                                   "https://bdc.example.gov.cn/estatechain); default: the node's own "
                                   "listening address.")
    nats_monitoring: tuple[str, ...] = Field(default=(), description="Every NATS server's monitoring URL, "
                                             "checked for the settings that keep acknowledged writes.")
    webhook_retention_days: int = Field(default=90, ge=1, description="Days a delivered or abandoned webhook "
                                        "event and its delivery attempts stay in outbox.sqlite (the events "
                                        "themselves stay in the ledger and the SSE stream).")
    peer_refusal_burst: int = Field(default=PEER_REFUSAL_BURST, gt=0, description="Refused material requests "
                                    "(403, 404) a peer org's node may get from this node at once; past it, and until "
                                    "peer_refusals_per_minute refill it, 429 with Retry-After. A registry node "
                                    "asks each peer once per material it lacks: a cluster at work stays far "
                                    "below. Served materials are never limited.")
    peer_refusals_per_minute: int = Field(default=PEER_REFUSALS_PER_MINUTE, gt=0, description="How fast a peer "
                                          "org's budget of refused material requests refills (peer_refusal_burst).")
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="Addresses or networks (e.g. 127.0.0.1, 10.0.0.0/8) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers name the client; comma-separated in "
        "ESTATECHAIN_TRUSTED_PROXIES. Default: none, so every caller is known by its socket address.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        """The environment's comma-separated list as a tuple (a blank entry, or a blank list, is none)."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Only IP addresses and networks: uvicorn would take anything else as a literal that never matches.

        ``*`` (uvicorn's "trust every caller") and a network with host bits set (``10.0.0.1/8``, likely a
        typo for a wider trust than meant) are refused rather than guessed at.
        """
        for entry in value:
            try:
                ipaddress.ip_network(entry)
            except ValueError:
                msg = f"not an IP address or network: {entry!r}"
                raise ValueError(msg) from None
        return value
