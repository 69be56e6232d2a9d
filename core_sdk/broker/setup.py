"""The process-wide broker, chosen once at import from the environment.

* ``ENV=test``                      -> ``InMemoryBroker`` (tasks run in-process)
* ``REDIS_URL`` set                 -> Redis stream broker (consumer group, acks after the result
                                       is stored, acknowledged entries deleted) + JSON result
                                       backend with a TTL and pushed completion; the URL's scheme
                                       picks the deployment: ``redis://`` (one server),
                                       ``redis+sentinel://`` (taskiq-redis's Sentinel stream
                                       broker), ``redis+cluster://`` (its Cluster stream broker),
                                       see :mod:`core_sdk.broker.topology`
* no ``REDIS_URL``                  -> ``InMemoryBroker`` with a warning (outside tests)
* ``REDIS_URL`` set but unreachable -> ``ConfigurationError`` when ``ENV=prod``; a warning and the
                                       in-memory fallback elsewhere

Tests and tools build their own with :func:`build_broker`; :func:`set_broker` swaps the
process-wide one (``manager.broker`` calls use :func:`get_broker`).
"""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from taskiq import AsyncBroker, InMemoryBroker

from core_sdk.broker.formatter import JSONOnlyFormatter, limit_logged_payloads
from core_sdk.broker.operations import register_dam_task
from core_sdk.broker.result_backend import InMemoryJSONResultBackend, RedisJSONResultBackend
from core_sdk.broker.stream import (
    DAMRedisStreamBroker,
    DAMRedisStreamClusterBroker,
    DAMRedisStreamSentinelBroker,
    DAMStreamMixin,
)
from core_sdk.broker.topology import (
    ClusterJSONResultBackend,
    SentinelJSONResultBackend,
    parse_redis_url,
    ping,
)
from core_sdk.config import BaseAppSettings, get_settings
from core_sdk.exceptions import ConfigurationError

__all__ = [
    "broker",
    "build_broker",
    "build_inmemory_broker",
    "get_broker",
    "set_broker",
]

logger = logging.getLogger("core_sdk.broker")


def _finish(target: AsyncBroker, settings: BaseAppSettings) -> AsyncBroker:
    target.formatter = JSONOnlyFormatter(settings.MAX_MESSAGE_BYTES)
    limit_logged_payloads()
    register_dam_task(target)
    return target


def build_inmemory_broker(settings: BaseAppSettings, *, reason: str | None = None) -> AsyncBroker:
    """``InMemoryBroker`` with the JSON formatter and the in-memory JSON result backend.

    ``reason`` (why there is no Redis broker) is kept for the error a worker start reports.
    """
    target = InMemoryBroker(max_stored_results=-1).with_result_backend(
        InMemoryJSONResultBackend(ttl_seconds=settings.RESULT_TTL_SECONDS)
    )
    target.core_sdk_inmemory_reason = reason or f"ENV={settings.ENV}"  # type: ignore[attr-defined]
    return _finish(target, settings)


def build_redis_broker(settings: BaseAppSettings) -> AsyncBroker:
    """Redis stream broker + Redis JSON result backend from ``settings`` (no connection made).

    ``redis://`` -> :class:`DAMRedisStreamBroker`, ``redis+sentinel://`` ->
    :class:`DAMRedisStreamSentinelBroker`, ``redis+cluster://`` ->
    :class:`DAMRedisStreamClusterBroker`.
    """
    if not settings.REDIS_URL:
        raise ConfigurationError("REDIS_URL is not set.")
    try:
        target = parse_redis_url(settings.REDIS_URL)
    except ValueError as exc:
        raise ConfigurationError(f"REDIS_URL {exc}") from None
    timeout = settings.REDIS_CONNECT_TIMEOUT_SECONDS
    stream_options: dict[str, Any] = {
        "queue_name": settings.REDIS_QUEUE_NAME,
        "consumer_group_name": settings.REDIS_CONSUMER_GROUP,
        # "0": a group created after calls were queued (or again after Redis restarted) still
        # receives them. Acknowledged entries are deleted, so the stream only holds unfinished
        # calls.
        "consumer_id": "0",
        "idle_timeout": settings.REDIS_IDLE_TIMEOUT_MS,
        "xread_block": settings.REDIS_XREAD_BLOCK_MS,
        # entries one read takes; a worker holds them until it can start them, so a small
        # number spreads a burst over all workers
        "xread_count": settings.REDIS_XREAD_COUNT,
        "socket_connect_timeout": timeout,
    }
    backend_options: dict[str, Any] = {
        "key_prefix": settings.REDIS_KEY_PREFIX,
        "ttl_seconds": settings.RESULT_TTL_SECONDS,
        "max_connections": settings.REDIS_MAX_CONNECTIONS,
        "socket_connect_timeout": timeout,
    }
    if target.kind != "cluster":
        # A pooled connection that Redis dropped (restart, fail-over, idle timeout) is
        # replaced once, at once, instead of failing the command. (Cluster clients have their
        # own retry policy.) At-least-once: a send retried this way may queue a call twice.
        retry = Retry(NoBackoff(), 1, (RedisConnectionError,))
        stream_options["retry"] = retry
        backend_options["retry"] = retry
    target_broker: AsyncBroker
    if target.kind == "sentinel":
        assert target.service_name is not None
        target_broker = DAMRedisStreamSentinelBroker(
            sentinels=list(target.hosts),
            master_name=target.service_name,
            sentinel_kwargs=target.sentinel_kwargs(
                socket_connect_timeout=timeout, socket_timeout=timeout
            ),
            **target.connection_kwargs(),
            **stream_options,
        )
        backend: RedisJSONResultBackend = SentinelJSONResultBackend(target, **backend_options)
    elif target.kind == "cluster":
        from redis.asyncio.cluster import ClusterNode

        cluster_options: dict[str, Any] = {}
        if settings.REDIS_MAX_CONNECTIONS is not None:
            cluster_options["max_connection_pool_size"] = settings.REDIS_MAX_CONNECTIONS
        target_broker = DAMRedisStreamClusterBroker(
            url=target.url,
            startup_nodes=[ClusterNode(host, port) for host, port in target.hosts[1:]],
            **target.connection_kwargs(),
            **cluster_options,
            **stream_options,
        )
        backend = ClusterJSONResultBackend(target, **backend_options)
    else:
        target_broker = DAMRedisStreamBroker(
            url=settings.REDIS_URL,
            max_connection_pool_size=settings.REDIS_MAX_CONNECTIONS,
            **stream_options,
        )
        backend = RedisJSONResultBackend(
            settings.REDIS_URL, health_check_interval=30, **backend_options
        )
    # a backstop for an entry never acknowledged; a call itself ends at OPERATION_TIMEOUT_SECONDS
    # (but may first wait for a free slot behind calls as long as that)
    target_broker.max_claim_refresh_seconds = max(
        DAMStreamMixin.max_claim_refresh_seconds, 2 * settings.OPERATION_TIMEOUT_SECONDS + 600
    )
    return _finish(target_broker.with_result_backend(backend), settings)


def _redis_reachable(url: str, timeout: float) -> Exception | None:
    try:
        target = parse_redis_url(url)
    except ValueError as exc:
        return ValueError(f"REDIS_URL {exc}")
    return ping(target, timeout)


def build_broker(
    settings: BaseAppSettings | None = None, *, check_redis: bool = True
) -> AsyncBroker:
    """Choose and build a broker for ``settings`` (see the module docstring for the rules)."""
    settings = settings or get_settings()
    if settings.ENV == "test":
        return build_inmemory_broker(settings)
    if not settings.REDIS_URL:
        logger.warning(
            "REDIS_URL is not set: using the in-process InMemoryBroker (ENV=%s). Operations run "
            "in this process; set REDIS_URL to use workers.",
            settings.ENV,
        )
        return build_inmemory_broker(settings, reason="REDIS_URL is not set")
    if check_redis:
        problem = _redis_reachable(settings.REDIS_URL, settings.REDIS_CONNECT_TIMEOUT_SECONDS)
        if problem is not None:
            if settings.ENV == "prod":
                raise ConfigurationError(
                    f"REDIS_URL is set but Redis is unreachable ({problem}); refusing to start "
                    "with ENV=prod."
                )
            logger.warning(
                "REDIS_URL is set but Redis is unreachable (%s): falling back to the in-process "
                "InMemoryBroker (ENV=%s).",
                problem,
                settings.ENV,
            )
            return build_inmemory_broker(
                settings,
                reason=f"REDIS_URL is set but Redis was unreachable when the broker was chosen "
                f"({problem})",
            )
    return build_redis_broker(settings)


broker: AsyncBroker = build_broker()
"""The process-wide broker (a service's ``worker.py`` exposes it to ``taskiq worker``)."""

_current: AsyncBroker = broker


def get_broker() -> AsyncBroker:
    """The broker used by ``manager.broker`` calls (the module-level ``broker`` unless swapped)."""
    return _current


def set_broker(new_broker: AsyncBroker) -> AsyncBroker:
    """Make ``new_broker`` the one used by ``manager.broker`` calls; returns the previous one."""
    global _current
    previous = _current
    register_dam_task(new_broker)
    _current = new_broker
    return previous
