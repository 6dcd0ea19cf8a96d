"""nats-server configuration for a consortium cluster: durable JetStream, one user per org.

Design §3.8 needs a replicated stream that fsyncs every write, and §3.22 needs each org to connect
with its own credentials and subject permissions, with only the operator able to delete or purge.
This module writes both down as nats-server config files (JSON, which nats-server parses as its
config format) for an N-server cluster on loopback, plus one 0600 credentials file per org.

Permissions are allow-lists. Each grant below was checked against nats-server's
``server/jetstream_api.go`` and ``server/consumer.go`` (subject templates) and nats-py 2.16's
``nats/js/client.py`` and ``nats/js/manager.py`` (what the client actually sends):

- JetStream publish with an ack: a plain publish on the stream subject with a reply inbox; the
  stream answers into the inbox, so the org needs only the subject and ``_INBOX_<org>.>``.
- Durable pull consumer (name from ``subjects.consumer_name``): create via
  ``$JS.API.CONSUMER.CREATE.<stream>.<name>[.<filter>]`` (nats-py ≥ 2.9 servers) or the legacy
  ``$JS.API.CONSUMER.DURABLE.CREATE.<stream>.<name>``; ``$JS.API.CONSUMER.INFO`` (pull_subscribe
  checks existence first); fetch via ``$JS.API.CONSUMER.MSG.NEXT.<stream>.<name>``; acks go to the
  reply subject ``$JS.ACK.<stream>.<name>.…`` (v1 format, the default) or
  ``$JS.ACK.<domain>.<acc hash>.<stream>.<name>.…`` (v2, behind the ``js_ack_fc_v2`` feature flag).
  All are bound to the org's own consumer name: pulling from another org's consumer would take
  its deliveries.
- Ordered consumer (nats-py ``subscribe(ordered_consumer=True)``): an ephemeral push consumer made
  by the legacy ``$JS.API.CONSUMER.CREATE.<stream>`` (no name: the server names it), delivering to
  the org's inbox, with flow-control replies to ``$JS.FC.<stream>.<random name>.…``.

Never granted: stream create/update/delete/purge, message delete (``$JS.API.STREAM.MSG.DELETE``),
other orgs' consumers, direct subscriptions to ``ec.<tag>.>``. Deny lists repeat the destructive
API subjects, since a deny wins over any allow that a later edit might widen.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from estatechain.errors import InputError
from estatechain.ordering import subjects

ACCOUNT: Final = "CONSORTIUM"
OPERATOR: Final = "operator"
CLUSTER_NAME: Final = "estatechain"
SIZES: Final = (3, 5)
"""Supported cluster sizes: R3 tolerates one lost server, R5 two."""

_DENY_ALWAYS: Final = (
    "$JS.API.STREAM.CREATE.>",
    "$JS.API.STREAM.UPDATE.>",
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.STREAM.MSG.DELETE.>",
    "$JS.API.ACCOUNT.PURGE.>",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """One NATS user: how an org's node (or the operator) connects."""

    user: str
    password: str
    inbox_prefix: str

    def connect_options(self) -> dict[str, str]:
        """Keyword arguments for ``nats.connect`` (add ``servers``)."""
        return {"user": self.user, "password": self.password, "inbox_prefix": self.inbox_prefix}

    def save(self, path: Path) -> None:
        """Write the credentials readable by the owner only (0600), created that way: never world-readable."""
        data = json.dumps({"user": self.user, "password": self.password, "inbox_prefix": self.inbox_prefix})
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)

    @classmethod
    def load(cls, path: Path) -> Credentials:
        """Read credentials written by :meth:`save`.

        Raises:
            InputError: the file is missing, unreadable or not ``{"user", "password", "inbox_prefix"}``
                (a NATS ``.creds`` file, for one, is not this format).

        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(user=str(data["user"]), password=str(data["password"]),
                       inbox_prefix=str(data["inbox_prefix"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{path}: not an org's NATS credentials file ({type(exc).__name__}: {exc}); it must be "
                             'JSON {"user": …, "password": …, "inbox_prefix": "_INBOX_<org>"}, as `estatechain up '
                             "--cluster` writes it") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerPorts:
    """The loopback ports of one server."""

    client: int
    cluster: int
    http: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterFiles:
    """What :func:`write_cluster` produced: one config per server, one credentials file per user."""

    directory: Path
    ports: tuple[ServerPorts, ...]
    configs: tuple[Path, ...]
    credentials: dict[str, Path]
    """User name (org id or ``operator``) → credentials file."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    held: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def _consumer_grants(stream: str, consumer: str) -> list[str]:
    return [
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.MSG.GET.{stream}",  # read one entry by sequence (catch-up); read-only
        f"$JS.API.CONSUMER.CREATE.{stream}",  # ordered (ephemeral, server-named) consumers
        f"$JS.API.CONSUMER.CREATE.{stream}.{consumer}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{consumer}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{consumer}",
        f"$JS.API.CONSUMER.INFO.{stream}.{consumer}",
        f"$JS.API.CONSUMER.DELETE.{stream}.{consumer}",  # its own consumer only: reset by re-creation
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}",
        f"$JS.ACK.{stream}.{consumer}.>",
        f"$JS.ACK.*.*.{stream}.{consumer}.>",
        f"$JS.FC.{stream}.>",
        f"$JS.FC.*.*.{stream}.>",
    ]


def org_permissions(tag: str, org_id: str) -> dict[str, dict[str, list[str]]]:
    """The nats-server ``permissions`` block for ``org_id``'s user (see the module docstring)."""
    consumer = subjects.consumer_name(org_id)
    publish = [
        subjects.tx_subject(tag, org_id),
        subjects.cut_subject(tag),
        subjects.att_subject(tag, org_id),
        "$JS.API.INFO",
    ]
    for stream in (subjects.tx_stream(tag), subjects.att_stream(tag)):
        publish += _consumer_grants(stream, consumer)
    publish += _materials_grants(tag)
    return {
        "publish": {"allow": publish, "deny": list(_DENY_ALWAYS)},
        "subscribe": {"allow": [f"{subjects.inbox_prefix(org_id)}.>"]},
    }


def _materials_grants(tag: str) -> list[str]:
    """Provisional grants for the materials object store (issue pending; the bucket is not created yet).

    Object puts publish chunks on ``$O.<bucket>.C.<nuid>`` and metadata on ``$O.<bucket>.M.<name>``;
    gets read metadata by ``STREAM.MSG.GET``/``DIRECT.GET`` and chunks through an ordered consumer.
    Deletes and replacing an object need a purge, which stays operator-only.
    """
    bucket, stream = subjects.materials_bucket(tag), subjects.materials_stream(tag)
    return [
        f"$O.{bucket}.C.>",
        f"$O.{bucket}.M.>",
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.FC.{stream}.>",
    ]


def make_credentials(org_ids: Iterable[str]) -> dict[str, Credentials]:
    """Fresh random passwords for the operator and every org (development: password auth)."""
    users = {OPERATOR: Credentials(user=OPERATOR, password=secrets.token_urlsafe(24), inbox_prefix="_INBOX")}
    for org_id in org_ids:
        users[org_id] = Credentials(
            user=org_id, password=secrets.token_urlsafe(24), inbox_prefix=subjects.inbox_prefix(org_id)
        )
    return users


def server_config(  # noqa: PLR0913 - each is a distinct knob of one server's file
    *,
    index: int,
    ports: Sequence[ServerPorts],
    directory: Path,
    tag: str,
    users: dict[str, Credentials],
    sync_always: bool = True,
) -> dict[str, object]:
    """The config of server ``index`` as a JSON-able dict.

    ``sync_always=False`` exists only so tests can show that ``check_cluster`` refuses such a
    cluster: with the server default, acknowledged writes sit unsynced for up to two minutes
    (Jepsen, NATS 2.12.1).
    """
    own = ports[index]
    user_entries: list[dict[str, object]] = []
    for name, cred in users.items():
        entry: dict[str, object] = {"user": cred.user, "password": cred.password}
        if name != OPERATOR:
            entry["permissions"] = org_permissions(tag, name)
        user_entries.append(entry)
    jetstream: dict[str, object] = {"store_dir": str(directory / f"store-{index}")}
    if sync_always:
        jetstream["sync_interval"] = "always"
    return {
        "server_name": f"ec-{index}",
        "listen": f"127.0.0.1:{own.client}",
        "http": f"127.0.0.1:{own.http}",
        "log_file": str(directory / f"server-{index}.log"),
        "jetstream": jetstream,
        "cluster": {
            "name": CLUSTER_NAME,
            "listen": f"127.0.0.1:{own.cluster}",
            "routes": [f"nats-route://127.0.0.1:{p.cluster}" for p in ports],
        },
        "accounts": {ACCOUNT: {"jetstream": "enabled", "users": user_entries}},
    }


def write_cluster(
    directory: Path, *, tag: str, org_ids: Sequence[str], size: int = 3, sync_always: bool = True
) -> ClusterFiles:
    """Write ``size`` server configs and the credentials files into ``directory`` (created 0700).

    Config files hold the passwords, so they are 0600 like the credentials files.
    """
    if size not in SIZES:
        raise ValueError(f"cluster size {size} is not supported: use one of {SIZES} (odd, for a Raft majority)")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    numbers = free_ports(3 * size)
    ports = tuple(ServerPorts(client=numbers[3 * i], cluster=numbers[3 * i + 1], http=numbers[3 * i + 2])
                  for i in range(size))
    users = make_credentials(org_ids)
    cred_dir = directory / "credentials"
    cred_dir.mkdir(exist_ok=True, mode=0o700)
    credentials: dict[str, Path] = {}
    for name, cred in users.items():
        credentials[name] = cred_dir / f"{name}.json"
        cred.save(credentials[name])
    configs: list[Path] = []
    for index in range(size):
        config = server_config(index=index, ports=ports, directory=directory, tag=tag, users=users,
                               sync_always=sync_always)
        path = directory / f"server-{index}.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)
        configs.append(path)
    return ClusterFiles(directory=directory, ports=ports, configs=tuple(configs), credentials=credentials)
