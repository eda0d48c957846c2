"""What an operator watches, through prometheus-client (served by ``health.py: metrics``).

Each app has its own registry (several apps may share a process, as in the tests): requests
and their latency by route template and status, open websockets, calls in progress, the
database pool in use, the outbox's backlog and delivery lag, uptime. In production the page
is read only from ``TELECONSULT_METRICS_ALLOW`` addresses (loopback by default) or with
``TELECONSULT_METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

from .config import Settings


@dataclass
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    websockets: Gauge


def instruments(
    in_use: Callable[[], float],
    calls: Callable[[], float],
    outbox_waiting: Callable[[], float],
    outbox_lag: Callable[[], float],
) -> Metrics:
    """A registry with its instruments; the callables are read at each scrape."""
    registry = CollectorRegistry()
    started = time.time()
    Gauge(
        "teleconsult_uptime_seconds", "Seconds since the app was built.", registry=registry
    ).set_function(lambda: time.time() - started)
    Gauge(
        "teleconsult_db_pool_checked_out",
        "Database connections of the pool in use.",
        registry=registry,
    ).set_function(in_use)
    Gauge(
        "teleconsult_calls_in_progress",
        "Calls with a participant connected to this process.",
        registry=registry,
    ).set_function(calls)
    Gauge(
        "teleconsult_outbox_waiting",
        "Events written but not yet delivered to the bus (the outbox's backlog).",
        registry=registry,
    ).set_function(outbox_waiting)
    Gauge(
        "teleconsult_bus_delivery_lag_seconds",
        "How long the oldest undelivered event has waited.",
        registry=registry,
    ).set_function(outbox_lag)
    return Metrics(
        registry=registry,
        requests=Counter(
            "teleconsult_requests",
            "Requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        ),
        latency=Histogram(
            "teleconsult_request_seconds",
            "Time to answer a request, by route template and method.",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        ),
        websockets=Gauge(
            "teleconsult_websockets_open",
            "Websockets open on this process, by kind (events, signal).",
            ["kind"],
            registry=registry,
        ),
    )


def allowed(settings: Settings, remote: str | None, authorization: str) -> bool:
    """Whether this caller may read the metrics (anyone outside production)."""
    if settings.env != "production":
        return True
    token = settings.metrics_token
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return True
    try:
        peer = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(net, strict=False) for net in settings.metrics_allow)
