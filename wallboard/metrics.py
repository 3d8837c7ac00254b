"""Prometheus metrics of the gateway, served at ``/metrics``.

Connections by hub kind, frames and deltas sent (``rate()`` gives messages/s), and the lag
of each client: seconds from a delta entering the stream to its frame being written to the
client, and how many deltas a client is behind when its sender wakes (both histograms, so
one slow screen shows up without a time series per connection).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

CONNECTIONS = Gauge(
    "wallboard_connections", "Open WebSocket connections", ["hub_kind"], registry=REGISTRY
)
CONNECTS = Counter(
    "wallboard_connects_total", "Connections by outcome", ["outcome"], registry=REGISTRY
)
FRAMES_SENT = Counter(
    "wallboard_frames_sent_total", "Frames written to clients", ["type"], registry=REGISTRY
)
DELTAS_SENT = Counter(
    "wallboard_deltas_sent_total", "Deltas delivered to clients", registry=REGISTRY
)
DELTAS_COALESCED = Counter(
    "wallboard_deltas_coalesced_total",
    "Deltas merged away for clients that were behind",
    registry=REGISTRY,
)
DELTAS_READ = Counter(
    "wallboard_deltas_read_total", "Deltas read from the Redis stream", registry=REGISTRY
)
RESYNCS = Counter(
    "wallboard_resyncs_total",
    "Fresh snapshots sent instead of deltas",
    ["reason"],
    registry=REGISTRY,
)
CLIENT_ERRORS = Counter(
    "wallboard_client_errors_total", "Refused client frames", ["code"], registry=REGISTRY
)
CLIENT_LAG_SECONDS = Histogram(
    "wallboard_client_lag_seconds",
    "Per client: time from a delta entering the stream to its frame being sent",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
CLIENT_BACKLOG = Histogram(
    "wallboard_client_backlog_deltas",
    "Per client: deltas pending when its sender wakes",
    buckets=(1, 2, 5, 10, 50, 100, 1000, 10000),
    registry=REGISTRY,
)
CLIENT_LAG_MAX = Gauge(
    "wallboard_client_lag_max_deltas",
    "The largest backlog of any client at the last sample",
    registry=REGISTRY,
)
ACKS = Counter("wallboard_acks_total", "Command acknowledgements", ["via"], registry=REGISTRY)
FEEDER_APPENDED = Counter(
    "wallboard_feeder_appended_total", "Deltas the feeder appended to the stream", registry=REGISTRY
)
FEEDER_REJECTED = Counter(
    "wallboard_feeder_rejected_total", "Kafka records that were not deltas", registry=REGISTRY
)
FEEDER_LEADER = Gauge(
    "wallboard_feeder_leader", "1 while this process runs the feeder", registry=REGISTRY
)


def render() -> bytes:
    """The Prometheus text exposition of this process's metrics."""
    return generate_latest(REGISTRY)
