"""A node says, at start and in ``/metrics``, that a certificate it uses is about to expire.

The registry's document-signing certificate is replaced by one that ends in ten days, built with
``cryptography`` from the development CA; the node is served over loopback HTTP. Before, nothing
said so: the certificate ran out and PDF validators rejected every certificate signed after it.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from prometheus_client.parser import text_string_to_metric_families

from estatechain.clock import SystemClock
from estatechain.identity.devca import create_dev_consortium, docsign_paths
from estatechain.node.settings import Settings
from estatechain.storage.store import LedgerStore
from estatechain.testing.serving import served

ORG = "gz-registry"
DAY_S = 24 * 3600
YEAR_S = 365 * DAY_S


def _reissue_expiring(consortium: Path, days: int) -> None:
    """Replace the registry's document-signing certificate with one of the same key ending in ``days`` days."""
    org_dir = consortium / "orgs" / ORG
    ca = x509.load_pem_x509_certificate((org_dir / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((org_dir / "ca.key.pem").read_bytes(), password=None)
    assert isinstance(ca_key, ed25519.Ed25519PrivateKey)
    cert_path, key_path = docsign_paths(consortium, ORG)
    old = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(ca.subject)
               .public_key(key.public_key()).serial_number(secrets.randbits(63))  # type: ignore[arg-type]
               .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=days)))
    for extension in old.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    cert_path.write_bytes(builder.sign(ca_key, None).public_bytes(serialization.Encoding.PEM))


def _expiry(metrics: str) -> dict[str, float]:
    """``estatechain_certificate_expiry_seconds`` by use."""
    return {s.labels["use"]: s.value for family in text_string_to_metric_families(metrics)
            if family.name == "estatechain_certificate_expiry_seconds" for s in family.samples}


def test_a_certificate_that_expires_within_30_days_is_warned_of_at_start_and_counted_down_in_metrics(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    consortium = tmp_path / "net"
    dev = create_dev_consortium(consortium, now_ms=SystemClock().now_ms())
    _reissue_expiring(consortium, days=10)
    ledger_dir = consortium / "nodes" / ORG
    LedgerStore.create(ledger_dir, dev.genesis).close()
    caplog.set_level(logging.WARNING)

    with served(Settings(ledger_dir=ledger_dir, port=0)) as url, httpx.Client(timeout=30) as http:
        metrics = http.get(f"{url}/metrics").text

    warnings = [r.getMessage() for r in caplog.records if r.name == "estatechain.node.expiry"]
    assert len(warnings) == 1, warnings  # the node's, issuer's and CA's have years left
    assert warnings[0].startswith("the document-signer certificate CN=")
    assert "expires in 10.0 days" in warnings[0] or "expires in 9.9 days" in warnings[0], warnings[0]
    assert "renew it" in warnings[0]

    left = _expiry(metrics)
    assert set(left) == {"node", "issuer", "document-signer", "org-ca"}, left
    assert 9.9 * DAY_S < left["document-signer"] <= 10 * DAY_S
    assert left["node"] > 4 * YEAR_S
    assert left["org-ca"] > 9 * YEAR_S
