"""Which Redis deployment ``REDIS_URL`` names: one server, a Sentinel-managed master, a Cluster.

URL forms (the scheme selects the deployment; nothing else needs to be configured)::

    redis://[[user]:password@]host[:port][/db]            one server (also rediss://, unix://)
    redis+sentinel://[[user]:password@]host:port[,host:port...]/service_name[/db]
    rediss+sentinel://...                                  the same, TLS to the master
    redis+cluster://[[user]:password@]host:port[,host:port...]
    rediss+cluster://...                                   the same, TLS

* Sentinel: the hosts are the Sentinels (default port 26379), ``service_name`` is the monitored
  master's name (``sentinel monitor <service_name> ...``), ``db`` defaults to 0. The user and
  password authenticate to the master; Sentinels that need their own password take
  ``?sentinel_password=...`` (and ``?sentinel_username=...``).
* Cluster: the hosts are startup nodes (default port 6379); the client discovers the other nodes.
  Cluster has one database; a ``/db`` path is refused.

Brokers: ``redis://`` -> :class:`~core_sdk.broker.stream.DAMRedisStreamBroker`,
``redis+sentinel://`` -> :class:`~core_sdk.broker.stream.DAMRedisStreamSentinelBroker`
(taskiq-redis ``RedisStreamSentinelBroker``), ``redis+cluster://`` ->
:class:`~core_sdk.broker.stream.DAMRedisStreamClusterBroker` (taskiq-redis
``RedisStreamClusterBroker``), each with the matching JSON result backend below.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisClusterException, RedisError

from core_sdk.broker.result_backend import RedisJSONResultBackend
from core_sdk.exceptions import BrokerConnectionError

__all__ = [
    "ClusterJSONResultBackend",
    "RedisTarget",
    "SentinelJSONResultBackend",
    "parse_redis_url",
    "ping",
]

Kind = Literal["redis", "sentinel", "cluster"]

_PLAIN_SCHEMES = {"redis", "rediss", "unix"}
_SENTINEL_SCHEMES = {"redis+sentinel": False, "rediss+sentinel": True}
_CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}


@dataclass(frozen=True)
class RedisTarget:
    """A parsed ``REDIS_URL``."""

    kind: Kind
    url: str
    """The URL as given (``redis://`` kind) or a ``redis(s)://`` URL of the first node."""
    hosts: tuple[tuple[str, int], ...] = ()
    service_name: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl: bool = False
    sentinel_options: dict[str, str] = field(default_factory=dict, repr=False)

    def connection_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of a connection to the data node(s) (Sentinel's master)."""
        kwargs: dict[str, Any] = {}
        if self.username:
            kwargs["username"] = self.username
        if self.password:
            kwargs["password"] = self.password
        if self.kind == "sentinel":
            kwargs["db"] = self.db
            if self.ssl:
                kwargs["ssl"] = True
        return kwargs

    def sentinel_kwargs(self, *, sync: bool = False, **extra: Any) -> dict[str, Any]:
        """Keyword arguments of the connections to the Sentinels themselves (asyncio clients
        unless ``sync``).

        No retries: a Sentinel that does not answer is skipped for the next one at once
        (redis-py's default retries with a back-off of seconds per Sentinel).
        """
        from redis.asyncio.retry import Retry as AsyncRetry
        from redis.backoff import NoBackoff
        from redis.retry import Retry as SyncRetry

        retry = (SyncRetry if sync else AsyncRetry)(NoBackoff(), 0)
        kwargs: dict[str, Any] = {"retry": retry, **extra}
        if "sentinel_username" in self.sentinel_options:
            kwargs["username"] = self.sentinel_options["sentinel_username"]
        if "sentinel_password" in self.sentinel_options:
            kwargs["password"] = self.sentinel_options["sentinel_password"]
        return kwargs


def _hosts(netloc_hosts: str, default_port: int, url: str) -> tuple[tuple[str, int], ...]:
    hosts: list[tuple[str, int]] = []
    for item in netloc_hosts.split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("["):  # [ipv6]:port
            host, _, rest = item[1:].partition("]")
            port_text = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port_text = item.rpartition(":") if ":" in item else (item, "", "")
        if not host:
            raise ValueError(f"has an empty host in {url.split('@')[-1]!r}")
        try:
            port = int(port_text) if port_text else default_port
        except ValueError:
            raise ValueError(f"has an invalid port {port_text!r}") from None
        if not 0 < port < 65536:
            raise ValueError(f"has an invalid port {port}")
        hosts.append((host, port))
    if not hosts:
        raise ValueError("has no host")
    return tuple(hosts)


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_redis_url(url: str) -> RedisTarget:
    """Parse ``REDIS_URL``; raises ValueError with a message that never echoes a password."""
    text = url.strip()
    scheme, sep, _ = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ValueError(
            "must be a redis://, rediss:// or unix:// URL such as redis://localhost:6379/0"
        )
    if scheme in _PLAIN_SCHEMES:
        parts = urlsplit(text)
        if scheme != "unix" and not parts.hostname:
            raise ValueError("has no host; expected e.g. redis://localhost:6379/0")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError(f"has an invalid port: {exc}") from None
        return RedisTarget(kind="redis", url=text)
    if scheme not in _SENTINEL_SCHEMES and scheme not in _CLUSTER_SCHEMES:
        raise ValueError(
            "must be a redis://, rediss:// or unix:// URL such as redis://localhost:6379/0 "
            "(Sentinel: redis+sentinel://host:26379/service_name, Cluster: "
            "redis+cluster://host:6379)"
        )
    rest = text[len(scheme) + 3 :]
    netloc, _, path_query = rest.partition("/")
    if "?" in netloc:  # no path: redis+cluster://h:1?x=y
        netloc, _, query = netloc.partition("?")
        path = ""
    else:
        path, _, query = path_query.partition("?")
    userinfo, at, hostpart = netloc.rpartition("@")
    if not at:
        userinfo, hostpart = "", netloc
    username: str | None = None
    password: str | None = None
    if userinfo:
        user_text, colon, password_text = userinfo.partition(":")
        username = unquote(user_text) or None
        password = unquote(password_text) if colon else None
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    segments = [unquote(segment) for segment in path.split("/") if segment]
    if scheme in _SENTINEL_SCHEMES:
        hosts = _hosts(hostpart, 26379, text)
        if not segments:
            raise ValueError(
                "names no master: expected redis+sentinel://host:26379[,host:26379]/service_name"
                "[/db]"
            )
        if len(segments) > 2:
            raise ValueError("has too many path segments; expected /service_name[/db]")
        db = 0
        if len(segments) == 2:
            try:
                db = int(segments[1])
            except ValueError:
                raise ValueError(f"has an invalid database number {segments[1]!r}") from None
        unknown = set(options) - {"sentinel_username", "sentinel_password"}
        if unknown:
            raise ValueError(f"has unknown options {sorted(unknown)}")
        ssl = _SENTINEL_SCHEMES[scheme]
        first = f"{'rediss' if ssl else 'redis'}://{_netloc(*hosts[0])}"
        return RedisTarget(
            kind="sentinel",
            url=first,
            hosts=hosts,
            service_name=segments[0],
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            sentinel_options=options,
        )
    hosts = _hosts(hostpart, 6379, text)
    if segments and segments != ["0"]:
        raise ValueError("names a database; Redis Cluster has only database 0")
    if options:
        raise ValueError(f"has unknown options {sorted(options)}")
    ssl = _CLUSTER_SCHEMES[scheme]
    host, port = hosts[0]
    return RedisTarget(
        kind="cluster",
        url=f"{'rediss' if ssl else 'redis'}://{_netloc(host, port)}",
        hosts=hosts,
        username=username,
        password=password,
        ssl=ssl,
    )


def sentinel_for(target: RedisTarget, **connection_kwargs: Any) -> Sentinel:
    """An asyncio ``Sentinel`` for ``target`` (no connection is made yet)."""
    timeout = connection_kwargs.get("socket_connect_timeout")
    extra = {"socket_connect_timeout": timeout, "socket_timeout": timeout} if timeout else {}
    return Sentinel(  # type: ignore[no-untyped-call]
        list(target.hosts),
        sentinel_kwargs=target.sentinel_kwargs(**extra),
        **{**target.connection_kwargs(), **connection_kwargs},
    )


def cluster_for(target: RedisTarget, **connection_kwargs: Any) -> RedisCluster:
    """An asyncio ``RedisCluster`` for ``target`` (connects on first use)."""
    from redis.asyncio.cluster import ClusterNode

    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.hosts],
        ssl=target.ssl,
        **{**target.connection_kwargs(), **connection_kwargs},
    )


def ping(target: RedisTarget, timeout: float) -> Exception | None:
    """Check (synchronously) that ``target`` answers; returns the problem or None."""
    from redis import Redis as SyncRedis

    try:
        if target.kind == "sentinel":
            from redis.sentinel import Sentinel as SyncSentinel

            assert target.service_name is not None
            sentinel = SyncSentinel(  # type: ignore[no-untyped-call]
                list(target.hosts),
                sentinel_kwargs=target.sentinel_kwargs(
                    sync=True, socket_connect_timeout=timeout, socket_timeout=timeout
                ),
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                **target.connection_kwargs(),
            )
            master = sentinel.master_for(target.service_name)  # type: ignore[no-untyped-call]
            try:
                master.ping()
            finally:
                master.close()
                for node in sentinel.sentinels:
                    node.close()
        elif target.kind == "cluster":
            from redis.cluster import ClusterNode as SyncClusterNode
            from redis.cluster import RedisCluster as SyncRedisCluster

            cluster = SyncRedisCluster(
                startup_nodes=[SyncClusterNode(host, port) for host, port in target.hosts],  # type: ignore[no-untyped-call]
                ssl=target.ssl,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                **target.connection_kwargs(),
            )
            try:
                cluster.ping()
            finally:
                cluster.close()
        else:
            client = SyncRedis.from_url(
                target.url, socket_connect_timeout=timeout, socket_timeout=timeout
            )
            try:
                client.ping()
            finally:
                client.close()
    except (RedisError, RedisClusterException, OSError, IndexError) as exc:
        return exc
    return None


class SentinelJSONResultBackend(RedisJSONResultBackend):
    """The JSON result backend on the master that the Sentinels name (follows a fail-over)."""

    def __init__(self, target: RedisTarget, **kwargs: Any) -> None:
        if target.kind != "sentinel" or target.service_name is None:
            raise ValueError("SentinelJSONResultBackend needs a redis+sentinel:// target")
        self.target = target
        connection_kwargs = {
            key: value
            for key, value in kwargs.items()
            if key not in {"key_prefix", "ttl_seconds", "max_connections"}
        }
        self._sentinel_connection_kwargs = connection_kwargs
        self._sentinel: Sentinel | None = None
        super().__init__(target.url, **kwargs)

    @property
    def client(self) -> Redis:
        if self._client is None:
            if self._sentinel is None:
                self._sentinel = sentinel_for(self.target, **self._sentinel_connection_kwargs)
            assert self.target.service_name is not None
            self._client = self._sentinel.master_for(self.target.service_name)
        return self._client

    def _reset_listener(self) -> None:
        super()._reset_listener()
        self._sentinel = None

    async def shutdown(self) -> None:
        client = self._client
        await super().shutdown()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
        self._sentinel = None


class ClusterJSONResultBackend(RedisJSONResultBackend):
    """The JSON result backend on a Redis Cluster (SET and PUBLISH are not one transaction)."""

    def __init__(self, target: RedisTarget, **kwargs: Any) -> None:
        if target.kind != "cluster":
            raise ValueError("ClusterJSONResultBackend needs a redis+cluster:// target")
        self.target = target
        self._cluster_connection_kwargs = {
            key: value
            for key, value in kwargs.items()
            if key not in {"key_prefix", "ttl_seconds", "max_connections", "health_check_interval"}
        }
        self._cluster: RedisCluster | None = None
        super().__init__(target.url, **kwargs)

    @property
    def client(self) -> Any:
        if self._cluster is None:
            self._cluster = cluster_for(self.target, **self._cluster_connection_kwargs)
        return self._cluster

    async def _ensure_listening(self, timeout: float) -> None:
        # the pub/sub client picks its node from the slot map: load it first
        try:
            await asyncio.wait_for(self.client.initialize(), max(timeout, 0.001))
        except (TimeoutError, RedisError, RedisClusterException, OSError) as exc:
            raise BrokerConnectionError(
                f"Could not reach the Redis Cluster within {timeout:g} s: {exc}"
            ) from exc
        await super()._ensure_listening(timeout)

    async def _store(self, task_id: str, document: bytes, reply_to: str | None) -> None:
        # The result key and the reply channel may live on different nodes: store, then notify.
        await self.client.set(self.result_key(task_id), document, ex=self.ttl_seconds)
        if reply_to:
            await self.client.publish(reply_to, task_id)

    def _reset_listener(self) -> None:
        super()._reset_listener()
        self._cluster = None

    async def shutdown(self) -> None:
        cluster = self._cluster
        await super().shutdown()
        self._cluster = None
        if cluster is not None:
            with contextlib.suppress(Exception):
                await cluster.aclose()
