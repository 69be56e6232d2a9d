"""``REDIS_URL`` selects the deployment: one server, Sentinel or Cluster (unit level: the choice of
broker and result backend, the parsed options, the reachability check and the URL errors)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rel_helpers import free_port
from taskiq import InMemoryBroker
from taskiq_redis import RedisStreamBroker, RedisStreamClusterBroker, RedisStreamSentinelBroker

from core_sdk.broker.result_backend import RedisJSONResultBackend
from core_sdk.broker.setup import build_broker
from core_sdk.broker.stream import (
    DAMRedisStreamBroker,
    DAMRedisStreamClusterBroker,
    DAMRedisStreamSentinelBroker,
    ResultStoredMiddleware,
)
from core_sdk.broker.topology import (
    ClusterJSONResultBackend,
    SentinelJSONResultBackend,
    parse_redis_url,
)
from core_sdk.config import BaseAppSettings
from core_sdk.exceptions import ConfigurationError


def settings(url: str, **extra: Any) -> BaseAppSettings:
    values: dict[str, Any] = {
        "ENV": "dev",
        "REDIS_URL": url,
        "REDIS_QUEUE_NAME": "q",
        "REDIS_CONSUMER_GROUP": "g",
        "REDIS_IDLE_TIMEOUT_MS": 1500,
        "REDIS_XREAD_COUNT": 7,
        **extra,
    }
    return BaseAppSettings(**values)


def test_plain_url_selects_the_stream_broker() -> None:
    broker = build_broker(settings("redis://127.0.0.1:6399/2"), check_redis=False)
    assert type(broker) is DAMRedisStreamBroker
    assert isinstance(broker, RedisStreamBroker)
    assert type(broker.result_backend) is RedisJSONResultBackend
    assert (broker.queue_name, broker.consumer_group_name) == ("q", "g")
    assert (broker.idle_timeout, broker.count) == (1500, 7)
    assert any(isinstance(m, ResultStoredMiddleware) for m in broker.middlewares)


def test_sentinel_url_selects_taskiqs_sentinel_stream_broker() -> None:
    url = "redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/mymaster/3?sentinel_password=sp"
    broker = build_broker(settings(url), check_redis=False)
    assert type(broker) is DAMRedisStreamSentinelBroker
    assert isinstance(broker, RedisStreamSentinelBroker)
    assert broker.master_name == "mymaster"
    assert (broker.queue_name, broker.consumer_group_name) == ("q", "g")
    assert (broker.idle_timeout, broker.count, broker.consumer_id) == (1500, 7, "0")
    sentinels = broker.sentinel.sentinels
    assert [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in sentinels
    ] == [("10.0.0.1", 26379), ("10.0.0.2", 26379)]
    assert sentinels[0].connection_pool.connection_kwargs["password"] == "sp"
    assert broker.sentinel.connection_kwargs["password"] == "s3cret"
    assert broker.sentinel.connection_kwargs["db"] == 3
    backend = broker.result_backend
    assert type(backend) is SentinelJSONResultBackend
    assert backend.target.service_name == "mymaster" and backend.target.db == 3
    assert any(isinstance(m, ResultStoredMiddleware) for m in broker.middlewares)


def test_cluster_url_selects_taskiqs_cluster_stream_broker() -> None:
    broker = build_broker(
        settings("redis+cluster://u:pw@10.0.0.1:7000,10.0.0.2:7001"), check_redis=False
    )
    assert type(broker) is DAMRedisStreamClusterBroker
    assert isinstance(broker, RedisStreamClusterBroker)
    assert (broker.queue_name, broker.consumer_group_name) == ("q", "g")
    assert (broker.idle_timeout, broker.count) == (1500, 7)
    assert broker.ack_in_transaction is False
    nodes = {(node.host, node.port) for node in broker.redis.nodes_manager.startup_nodes.values()}
    assert nodes == {("10.0.0.1", 7000), ("10.0.0.2", 7001)}
    backend = broker.result_backend
    assert type(backend) is ClusterJSONResultBackend
    assert backend.target.hosts == (("10.0.0.1", 7000), ("10.0.0.2", 7001))
    assert (backend.target.username, backend.target.password) == ("u", "pw")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://localhost", "must be a redis://, rediss:// or unix:// URL"),
        ("redis+sentinel://10.0.0.1:26379", "names no master"),
        ("redis+sentinel://10.0.0.1:26379/m/x", "invalid database number"),
        ("redis+sentinel://10.0.0.1:99999/m", "invalid port"),
        ("redis+sentinel://10.0.0.1/m?bogus=1", "unknown options"),
        ("redis+cluster://10.0.0.1:7000/2", "only database 0"),
        ("redis+cluster://:pw@", "has no host"),
    ],
)
def test_malformed_urls_are_configuration_errors(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError, match="REDIS_URL") as caught:
        settings(url)
    assert problem in str(caught.value)
    assert "pw" not in str(caught.value)


def test_password_is_not_in_the_repr() -> None:
    target = parse_redis_url("redis+sentinel://:hunter2@h:26379/m")
    assert "hunter2" not in repr(target)


@pytest.mark.parametrize(
    "template", ["redis+sentinel://127.0.0.1:{port}/mymaster", "redis+cluster://127.0.0.1:{port}"]
)
def test_unreachable_sentinel_or_cluster_fails_in_prod_and_falls_back_elsewhere(
    template: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = template.format(port=free_port())
    with pytest.raises(ConfigurationError, match="refusing to start with ENV=prod"):
        build_broker(settings(url, ENV="prod", REDIS_CONNECT_TIMEOUT_SECONDS=0.5))
    with caplog.at_level(logging.WARNING, logger="core_sdk.broker"):
        broker = build_broker(settings(url, REDIS_CONNECT_TIMEOUT_SECONDS=0.5))
    assert isinstance(broker, InMemoryBroker)
    assert "Redis is unreachable" in caplog.text
