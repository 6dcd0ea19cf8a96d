"""The composition root: every object of a running node built from ``Settings`` (style §6.7).

Nothing is built at import time and nothing reads globals: the CLI (or a test) makes a ``Settings``,
calls ``build_node`` and hands the result to ``estatechain.api.create_app``. The API layer sits above
this one, so the HTTP app itself is composed by the caller from the service built here.
"""

from __future__ import annotations

from estatechain.clock import Clock, SystemClock
from estatechain.errors import InputError
from estatechain.node.cluster import ClusterPipeline
from estatechain.node.events import EventHub, EventSource
from estatechain.node.expiry import held_certificates, warn_expiring
from estatechain.node.finality import Finality
from estatechain.node.keys import NodeKeys, node_keys
from estatechain.node.outbox import OUTBOX_FILE, Outbox, WebhookKey
from estatechain.node.pipeline import Pipeline
from estatechain.node.service import NodeService
from estatechain.node.settings import Settings
from estatechain.node.shredding import Shredder
from estatechain.ordering.jetstream import NatsAccess
from estatechain.ordering.natsconfig import Credentials
from estatechain.storage.store import LedgerStore


def build_node(settings: Settings, *, clock: Clock | None = None, webhook_key: WebhookKey | None = None) -> NodeService:
    """Open the node's ledger (taking its writer lock) and wire the pipeline and queries to it.

    Events are derived from committed blocks; webhooks go through ``outbox.sqlite`` beside the ledger,
    which first catches up on blocks committed after its high-water mark. ``webhook_key`` signs webhooks;
    without it, a development layout's ``<consortium>/identities.json`` ``<org>/node`` identity is used
    when the ledger folder is ``<consortium>/nodes/<org>``, else webhooks are off (SSE still works).

    Raises:
        NotFound: there is no ledger in ``settings.ledger_dir``.
        Conflict: another process already writes to that ledger.

    """
    used_clock = SystemClock() if clock is None else clock
    keys = node_keys(ledger_dir=settings.ledger_dir, org_id=settings.org_id, keystore=settings.keystore,
                     passphrase_file=settings.keystore_passphrase_file)  # before the ledger: a bad key touches nothing
    store = LedgerStore.open(settings.ledger_dir)
    certificates = held_certificates(keys, store.genesis)
    warn_expiring(certificates, used_clock.now_ms())
    source = EventSource(store.connection, store.genesis)
    hub = EventHub(source, start_height=store.height)
    node_identity = keys.identity("node")
    key = webhook_key if webhook_key is not None else (
        None if node_identity is None else WebhookKey(cert_der=node_identity.cert_der,
                                                      private_key=node_identity.private_key,
                                                      fingerprint=node_identity.fingerprint))
    outbox = Outbox(settings.ledger_dir / OUTBOX_FILE, key=key, clock=used_clock, initial_height=store.height,
                    retention_days=settings.webhook_retention_days)
    outbox.catch_up(source, store.height)
    hub.add_hook(outbox.enqueue)
    shredder = Shredder(store, settings.ledger_dir)
    shredder.sweep()  # marks committed before a crash, a restore or a snapshot join
    hub.add_hook(shredder.after_block)
    pipeline = Pipeline(store, used_clock) if not settings.nats_servers else _cluster_pipeline(settings, store, key,
                                                                                                 used_clock)
    return NodeService(settings=settings, store=store, pipeline=pipeline, clock=used_clock, events=hub, outbox=outbox,
                       party_key=party_id_key(settings, keys), keys=keys, certificates=certificates)


def _cluster_pipeline(settings: Settings, store: LedgerStore, key: WebhookKey | None, clock: Clock) -> ClusterPipeline:
    """A cluster node: the org's NATS access and node key; attestations beside the ledger."""
    if settings.org_id is None or settings.nats_credentials is None or key is None:
        raise InputError("a cluster node needs org_id, nats_credentials and its org's node identity "
                         "(ESTATECHAIN_ORG_ID, ESTATECHAIN_NATS_CREDENTIALS; dev layout <dir>/nodes/<org>)")
    try:
        credentials = Credentials.load(settings.nats_credentials)
        access = NatsAccess(servers=settings.nats_servers, user=credentials.user, password=credentials.password,
                            org_id=settings.org_id)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{settings.nats_credentials}: not a NATS credentials file ({exc})") from None

    finality = Finality(settings.ledger_dir, quorum=store.genesis.policies.finality_quorum, claim_of=store.claim)
    return ClusterPipeline(store, clock, access=access, monitoring=settings.nats_monitoring, node_key=key,
                           finality=finality)


PARTY_LOOKUP_NODES = frozenset({"gz-identity", "gz-registry"})
"""Dev nodes that serve party-id lookups: the identity authority's, and the single node (the registry's)."""


def party_id_key(settings: Settings, keys: NodeKeys) -> bytes | None:
    """The party-id key this node may use.

    A configured file first, else the org's keystore entry, else (development layout) the identity
    authority's key on the node that serves lookups.
    """
    path = settings.party_id_key
    if path is not None:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise InputError(f"party_id_key: cannot read {path}: {exc}") from None
    if keys.keystore is None:
        if keys.org_id not in PARTY_LOOKUP_NODES:
            return None
        if keys.org_id == "gz-registry" and settings.nats_servers:
            return None  # in a cluster the identity authority's own node serves lookups
    return keys.party_id_key()
