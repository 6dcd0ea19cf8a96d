"""The X.509 certificates a node uses, and how long each has left: a gauge, and a warning at start.

A certificate past its end stops the work it signs, quietly and far from its cause: peers refuse
requests and attestations signed with an expired node certificate, transactions signed with an
expired issuer certificate are refused, PDF validators reject the certificates the document signer
signed, and when the org's CA expires every certificate under it goes with it. Nothing told an
operator beforehand. Now ``/metrics`` exports ``estatechain_certificate_expiry_seconds`` for each of
them (read at scrape time, so an alert sees it fall), and the node logs a WARNING at start for any
that ends within ``WARN_WITHIN_DAYS`` days (or has ended). A renewed certificate counts once the node
restarts with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from cryptography import x509 as cx509

from estatechain.crypto import x509
from estatechain.identity.genesis import Genesis
from estatechain.node.keys import ISSUER_ROLE, NODE_USER, NodeKeys
from estatechain.node.process import utc_time

log = logging.getLogger(__name__)

WARN_WITHIN_DAYS: Final = 30
DAY_MS: Final = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldCertificate:
    """One certificate the node uses: what for, whose it is, and when it ends."""

    use: str
    """``node`` (its own identity), ``issuer`` (the registry's certificate desk), ``document-signer``
    (PAdES signatures on certificate PDFs) or ``org-ca`` (the org's CA in genesis, above all of them)."""
    subject: str
    not_after_ms: int

    def seconds_left(self, now_ms: int) -> float:
        """Seconds until the certificate ends (negative once it has)."""
        return (self.not_after_ms - now_ms) / 1000


def _held(use: str, cert: cx509.Certificate) -> HeldCertificate:
    return HeldCertificate(use=use, subject=cert.subject.rfc4514_string(), not_after_ms=x509.not_after_ms(cert))


def held_certificates(keys: NodeKeys, genesis: Genesis) -> tuple[HeldCertificate, ...]:
    """The certificates this node signs with (those its keys hold) and its org's CA, in that order."""
    held: list[HeldCertificate] = []
    for use, identity in (("node", keys.identity(NODE_USER)), ("issuer", keys.identity_with_role(ISSUER_ROLE))):
        if identity is not None:
            held.append(_held(use, x509.load_certificate(identity.cert_der, what=f"{identity.handle} certificate")))
    signer = keys.document_signer()
    if signer is not None:
        held.append(_held("document-signer", signer.cert))
    org = next((o for o in genesis.orgs if o.id == keys.org_id), None)
    if org is not None:
        held.append(_held("org-ca", x509.load_certificate(org.ca_cert_der, what=f"{org.id} CA certificate")))
    return tuple(held)


def warn_expiring(held: tuple[HeldCertificate, ...], now_ms: int, *, within_days: int = WARN_WITHIN_DAYS) -> None:
    """Log a WARNING for each certificate that ends within ``within_days`` days, or has ended."""
    for cert in held:
        left_ms = cert.not_after_ms - now_ms
        if left_ms >= within_days * DAY_MS:
            continue
        ends = utc_time(cert.not_after_ms / 1000)
        if left_ms <= 0:
            log.warning("the %s certificate %s expired %.1f days ago (%s): what it signs is refused; renew it "
                        "and restart the node", cert.use, cert.subject, -left_ms / DAY_MS, ends)
        else:
            log.warning("the %s certificate %s expires in %.1f days (%s): renew it and restart the node before then",
                        cert.use, cert.subject, left_ms / DAY_MS, ends)
