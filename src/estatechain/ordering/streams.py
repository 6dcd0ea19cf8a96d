"""The cluster's streams, and the start-up check that the NATS cluster under a node is durable.

A node refuses to run on a cluster that could lose an acknowledged transaction or let anyone delete
one, because the ledger's total order *is* the stream: an entry lost or removed after other nodes
cut it into a block forks the consortium. ``check_cluster`` names every wrong setting at once, so an
operator fixes them in one pass.

Retention: both streams use limits retention with no age, message or byte limit, so they keep
every entry for the life of the chain — a node that joins or restores replays from sequence 1.
``discard: new`` means that if an operator ever sets a limit, a full stream refuses new publishes
(the node sees the error) instead of silently dropping the oldest transactions. Trimming the stream
after snapshots is an operator decision, made with the operator's credentials.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

import httpx
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError

from estatechain.errors import EstatechainError, Unavailable
from estatechain.ordering import subjects

MIN_SERVER_VERSION: Final = (2, 12, 3)
"""nats-server 2.12.3 (released 2025-12-17) is the first release after Jepsen's NATS 2.12.1 analysis
(2025-12-08) that carries its fixes: NRG peer-removal and membership fixes ("Prevent disjoint majorities
under peer additions", "Removed leader may reappear in membership", "Disallow concurrent meta member
changes") and filestore fixes ("SyncBlocks may lose pending writes", "Filestore loses last seq on
Compact/Purge"), per the v2.12.2..v2.12.3 history of nats-io/nats-server and Synadia's reply to the
report. Jepsen's data-loss finding on lazy fsync is a setting, not a fix: ``sync_interval: always``,
checked separately. Jepsen's corruption findings (bit flips, truncated blocks) were still open then."""

MIN_REPLICAS: Final = 3
DEFAULT_DUPLICATE_WINDOW: Final = 120.0
"""Seconds during which a repeated ``Nats-Msg-Id`` (tx id, ``cut-<height>``) is stored once."""
MIN_DUPLICATE_WINDOW: Final = 60.0
"""Shortest window ``check_cluster`` accepts: a node re-publishing after a leader election or a
reconnect (seconds, with bounded retries) must still hit the window. The server turns 0 into 2 minutes."""

_HTTP_TIMEOUT: Final = 5.0
_API_TIMEOUT: Final = 5.0
SETTLE_S: Final = 30.0
"""How long ``ensure_streams`` waits for a fresh cluster's JetStream API (meta leader election)."""
NO_SUITABLE_PEERS: Final = 10005
"""JetStream's ``err_code`` when the meta leader cannot place a stream's replicas yet (too few servers known)."""


class ClusterMisconfigured(EstatechainError):
    """The NATS cluster or a stream lacks a setting the ledger's safety depends on; the node refuses to run."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(
            "the NATS cluster is not safe to run a node on; fix these and restart:\n- " + "\n- ".join(problems)
        )
        self.problems = tuple(problems)


def stream_config(name: str, subject_list: list[str], *, replicas: int, duplicate_window: float) -> StreamConfig:
    """The config every ledger stream uses (see the module docstring for retention)."""
    return StreamConfig(
        name=name,
        subjects=subject_list,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=replicas,
        discard=DiscardPolicy.NEW,
        max_age=0,
        max_msgs=-1,
        max_bytes=-1,
        duplicate_window=duplicate_window,
        deny_delete=True,
        deny_purge=True,
        allow_rollup_hdrs=False,
    )


def stream_configs(tag: str, *, replicas: int, duplicate_window: float) -> tuple[StreamConfig, StreamConfig]:
    """(transaction stream, attestation stream) configs for the chain ``tag``."""
    tx = stream_config(
        subjects.tx_stream(tag),
        [subjects.tx_subjects(tag), subjects.cut_subject(tag)],
        replicas=replicas,
        duplicate_window=duplicate_window,
    )
    att = stream_config(
        subjects.att_stream(tag), [subjects.att_subjects(tag)], replicas=replicas, duplicate_window=duplicate_window
    )
    return tx, att


async def ensure_streams(
    nc_operator: Client, tag: str, *, replicas: int = 3, duplicate_window: float = DEFAULT_DUPLICATE_WINDOW,
    settle_s: float = SETTLE_S,
) -> tuple[StreamInfo, StreamInfo]:
    """Create both streams if absent (operator credentials); leave existing ones alone.

    An existing stream is not updated: ``deny_delete``/``deny_purge`` cannot be relaxed by an update,
    and silently rewriting a live ledger stream is the operator's call. ``check_cluster`` reports
    any difference instead.

    A cluster that has just started may still be electing its meta leader: its JetStream API times
    out or answers "unavailable" for a few seconds; or the leader has not yet heard from enough
    servers to place R3 replicas ("no suitable peers for placement", seen on a loaded machine).
    Those answers are retried for up to ``settle_s`` seconds (then ``Unavailable`` names the last
    one); any other refusal (a bad config, a permission) is raised at once, since waiting would not
    change it.
    """
    js = nc_operator.jetstream(timeout=_API_TIMEOUT)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settle_s
    pause = 0.25
    while True:
        try:
            return await _ensure(js, stream_configs(tag, replicas=replicas, duplicate_window=duplicate_window))
        except (TimeoutError, NoRespondersError, ServiceUnavailableError, BadRequestError) as exc:
            if isinstance(exc, BadRequestError) and exc.err_code != NO_SUITABLE_PEERS:
                raise
            if loop.time() + pause > deadline:
                msg = (f"the JetStream API did not answer the stream creation within {settle_s:.0f} s ({exc!r}); "
                       "check that a majority of the NATS servers is up and has elected a meta leader")
                raise Unavailable(msg) from exc
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)


async def _ensure(js: JetStreamContext, configs: Sequence[StreamConfig]) -> tuple[StreamInfo, StreamInfo]:
    infos: list[StreamInfo] = []
    for config in configs:
        assert config.name is not None
        try:
            infos.append(await js.stream_info(config.name))
        except NotFoundError:
            infos.append(await js.add_stream(config))
    return infos[0], infos[1]


def _server_problems(url: str, varz: dict[str, object]) -> list[str]:
    problems: list[str] = []
    version = str(varz.get("version", "0"))
    numbers = tuple(int(part) for part in version.split("-", maxsplit=1)[0].split(".")[:3] if part.isdigit())
    if numbers < MIN_SERVER_VERSION:
        wanted = ".".join(map(str, MIN_SERVER_VERSION))
        problems.append(f"{url}: nats-server {version} is older than {wanted} (Jepsen 2.12.1 fixes): upgrade it")
    jetstream = varz.get("jetstream")
    config = jetstream.get("config") if isinstance(jetstream, dict) else None
    if not isinstance(config, dict):
        problems.append(f"{url}: JetStream is not enabled: add a jetstream {{ store_dir: ... }} block")
    elif config.get("sync_always") is not True:
        problems.append(
            f"{url}: JetStream does not fsync every write (varz jetstream.config.sync_always is not true): "
            "set jetstream { sync_interval: always }"
        )
    return problems


def _stream_problems(name: str, info: StreamInfo, min_replicas: int, min_window: float) -> list[str]:
    config = info.config
    problems: list[str] = []
    if (config.num_replicas or 1) < min_replicas:
        problems.append(f"stream {name}: replicas {config.num_replicas}, need at least {min_replicas}")
    if config.storage != StorageType.FILE:
        problems.append(f"stream {name}: storage {config.storage}, need file storage")
    if config.discard != DiscardPolicy.NEW:
        problems.append(f"stream {name}: discard {config.discard}, need discard new (never drop old entries)")
    if not config.deny_delete:
        problems.append(f"stream {name}: deny_delete is off, need it on")
    if not config.deny_purge:
        problems.append(f"stream {name}: deny_purge is off, need it on")
    if config.allow_rollup_hdrs:
        problems.append(f"stream {name}: allow_rollup_hdrs is on (a rollup purges entries), need it off")
    if config.duplicate_window < min_window:
        problems.append(
            f"stream {name}: duplicate window {config.duplicate_window}s, need at least {min_window}s"
            " (a re-published tx id must be stored once)"
        )
    if config.max_age:
        problems.append(f"stream {name}: max_age {config.max_age}s would expire ledger entries, need 0")
    return problems


async def _fetch_varz(client: httpx.AsyncClient, url: str) -> dict[str, object] | str:
    try:
        response = await client.get(f"{url.rstrip('/')}/varz")
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"{url}: monitoring endpoint unreachable ({exc!r}): check the server's http port"
    return data if isinstance(data, dict) else f"{url}: /varz did not return an object"


async def check_cluster(
    js: JetStreamContext,
    monitoring_urls: Sequence[str],
    tag: str,
    *,
    min_replicas: int = MIN_REPLICAS,
    min_duplicate_window: float = MIN_DUPLICATE_WINDOW,
) -> None:
    """Refuse to run unless every server and both streams carry the safety settings.

    Servers (each monitoring URL's ``/varz``): version ≥ 2.12.3 and ``jetstream.config.sync_always``
    true — ``sync_interval: always`` shows there, while ``jetstream.config.sync_interval`` keeps
    printing the 2-minute default and so cannot tell. Streams: R ≥ ``min_replicas``, file storage,
    discard new, deny delete and purge, no rollups, a duplicate window of at least
    ``min_duplicate_window`` seconds, no max age.

    Raises:
        ClusterMisconfigured: listing every problem found, each with its fix.

    """
    if not monitoring_urls:
        raise ClusterMisconfigured(["no monitoring URLs given: pass every server's http://host:port"])
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT) as client:
        answers = await asyncio.gather(*(_fetch_varz(client, url) for url in monitoring_urls))
    for url, answer in zip(monitoring_urls, answers, strict=True):
        problems += [answer] if isinstance(answer, str) else _server_problems(url, answer)
    for name in (subjects.tx_stream(tag), subjects.att_stream(tag)):
        try:
            info = await asyncio.wait_for(js.stream_info(name), _API_TIMEOUT)
        except NotFoundError:
            problems.append(f"stream {name}: missing; the operator creates it (ordering.streams.ensure_streams)")
            continue
        problems += _stream_problems(name, info, min_replicas, min_duplicate_window)
    if problems:
        raise ClusterMisconfigured(problems)
