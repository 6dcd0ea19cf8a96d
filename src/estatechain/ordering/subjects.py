"""The names a cluster's nodes and its NATS servers agree on: streams, subjects, consumers, inboxes.

Every name derives from the chain tag (the first 16 hex characters of the chain id), so two
consortia, or a test and a dev cluster, can share one NATS cluster without reading each other's
streams. Node code (publisher, stream reader) and server settings (permissions, stream configs)
import these functions rather than spelling names twice: a typo on one side would otherwise show up
only as a permission violation at run time.

Org ids are used as subject tokens and consumer names, so they must not contain ``.``, ``*``, ``>``
or whitespace; :func:`check_token` enforces that where names are built.
"""

from __future__ import annotations

import re
from typing import Final

TAG_LENGTH: Final = 16
"""Hex characters of the chain id used as the chain tag."""

_TOKEN: Final = re.compile(r"^[A-Za-z0-9_-]+$")


def check_token(value: str, what: str) -> str:
    """``value`` unchanged when it is usable as one subject token and consumer name.

    Raises:
        ValueError: naming ``what`` when the value holds characters NATS treats specially.

    """
    if not _TOKEN.fullmatch(value):
        raise ValueError(f"{what} {value!r} cannot be a NATS subject token: use only letters, digits, '-' and '_'")
    return value


def chain_tag(chain_id: str) -> str:
    """The chain tag: the first 16 hex characters of ``chain_id`` (the genesis hash)."""
    tag = chain_id[:TAG_LENGTH].lower()
    if len(tag) != TAG_LENGTH or any(c not in "0123456789abcdef" for c in tag):
        raise ValueError(f"chain id {chain_id!r} must start with {TAG_LENGTH} hex characters")
    return tag


def tx_stream(tag: str) -> str:
    """The stream that totally orders transactions and cut markers."""
    return f"EC_TX_{tag}"


def att_stream(tag: str) -> str:
    """The stream of block attestations (design §3.6)."""
    return f"EC_ATT_{tag}"


def materials_bucket(tag: str) -> str:
    """The object store bucket reserved for materials (design §3.11); not created yet."""
    return f"EC_MAT_{tag}"


def materials_stream(tag: str) -> str:
    """The stream behind the materials bucket: NATS names it ``OBJ_<bucket>``."""
    return f"OBJ_{materials_bucket(tag)}"


def tx_subject(tag: str, org_id: str) -> str:
    """Where ``org_id``'s node publishes each transaction it admitted (``Nats-Msg-Id`` = tx id)."""
    return f"ec.{tag}.tx.{check_token(org_id, 'org id')}"


def tx_subjects(tag: str) -> str:
    """The wildcard covering every org's transaction subject (stream config, never a subscription)."""
    return f"ec.{tag}.tx.*"


def cut_subject(tag: str) -> str:
    """Where any node publishes a cut marker (``Nats-Msg-Id`` = :func:`cut_msg_id`)."""
    return f"ec.{tag}.cut"


def cut_msg_id(height: int, head: str = "") -> str:
    """The ``Nats-Msg-Id`` of a cut marker for ``height`` after block ``head``: the stream keeps the first.

    Nodes at the same point of the stream share height and head, so their markers collapse into one;
    the head hash keeps a marker from being swallowed by an older one of the same height (a ledger
    rebuilt from an earlier point of the stream, as in tests and snapshot joins).
    """
    return f"cut-{height}-{head[:16]}" if head else f"cut-{height}"


def att_subject(tag: str, org_id: str) -> str:
    """Where ``org_id``'s node publishes its attestations."""
    return f"ec.{tag}.att.{check_token(org_id, 'org id')}"


def att_subjects(tag: str) -> str:
    """The wildcard covering every org's attestation subject (stream config)."""
    return f"ec.{tag}.att.*"


def inbox_prefix(org_id: str) -> str:
    """The org's private reply prefix, passed to ``nats.connect(inbox_prefix=...)``.

    Only this org's user may subscribe below it, so no other org can read its request replies
    (publish acks, JetStream API answers, pushed consumer messages).
    """
    return f"_INBOX_{check_token(org_id, 'org id')}"


def consumer_name(org_id: str) -> str:
    """The name of the org's durable pull consumer, the same on both streams.

    Permissions bind ``$JS.API.CONSUMER.MSG.NEXT`` and acks to this name, so an org can pull
    only from its own consumer: pulling from another org's would steal its deliveries.
    """
    return f"node-{check_token(org_id, 'org id')}"
