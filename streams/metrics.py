"""Prometheus metrics of the stream worker (served at ``/metrics`` on the worker's web port)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECORDS = Counter("gridhub_streams_records_total", "input records processed", ["topic"])
DEAD_LETTERS = Counter("gridhub_streams_dead_letters_total", "records sent to the dead letter")
OUTPUTS = Counter("gridhub_streams_outputs_total", "records published by the worker")
BATCH_SIZE = Histogram(
    "gridhub_streams_batch_records",
    "records per processed batch",
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
BATCH_SECONDS = Histogram(
    "gridhub_streams_batch_seconds",
    "wall time to process, publish and project one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
CALENDAR_FALLBACK = Gauge(
    "gridhub_calendar_fallback_year",
    "1 for each year whose working days fell back to plain weekends (no holiday data)",
    ["year"],
)
STALLS = Counter(
    "gridhub_streams_stalled_partitions_total",
    "input partitions whose committed offset stayed below the log end, sought back to it",
)
REREADS = Counter(
    "gridhub_streams_input_rereads_total",
    "times an input partition was sought back to records fetched but never delivered",
)
