"""Redis key names, in one place: the projections streams/ writes and the API/gateway read.

    keys = RedisKeys(settings.redis_prefix)
    await redis.get(keys.matter("M..."))

Values are JSON (orjson) unless a method says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RedisKeys:
    prefix: str = "gh:"

    def matter(self, matter_id: str) -> str:
        """String: the matter's projected view (JSON), written by streams/ after each event."""
        return f"{self.prefix}m:{matter_id}"

    def intake_seen(self, matter_id: str) -> str:
        """String: what intake knows before streams/ has projected the matter (JSON)."""
        return f"{self.prefix}intake:{matter_id}"

    def dedupe(self, source: str, source_id: str) -> str:
        """String (SET NX + TTL): the matter id first given to (source, source_id)."""
        return f"{self.prefix}dedupe:{source}:{source_id}"

    def dept_queue(self, department: str) -> str:
        """Sorted set: a department's open tasks, matter id scored by resolve deadline (epoch s)."""
        return f"{self.prefix}q:dept:{department}"

    def hub_open(self, kind: str, code: str) -> str:
        """Sorted set: open matters in a hub's area (city|township|village) — what the hub
        may see, whoever holds them — scored by deadline."""
        return f"{self.prefix}open:{kind}:{code}"

    def kpi(self, dimension: str, code: str, day: str) -> str:
        """Hash of KPI counters for one township/department/category/city and day (YYYYMMDD)."""
        return f"{self.prefix}kpi:{dimension}:{code}:{day}"

    def warnings(self) -> str:
        """Sorted set: active warnings (JSON member id), scored by due time."""
        return f"{self.prefix}warnings"

    def timeline(self, matter_id: str) -> str:
        """List: the matter's events in order (JSON), for the 全程记录 timeline."""
        return f"{self.prefix}tl:{matter_id}"

    def deadlines(self, partition: int) -> str:
        """Sorted set: the deadline index of one partition, warning id scored by due time."""
        return f"{self.prefix}dl:{partition}"

    def deadlines_inflight(self, partition: int) -> str:
        """Sorted set: warnings of one partition claimed for firing, scored by lease expiry."""
        return f"{self.prefix}dli:{partition}"

    def matter_alerts(self, matter_id: str) -> str:
        """Hash: a matter's alerts now in :meth:`warnings` (field ``kind:generation:level``
        → the member JSON), so streams/ can remove them when their deadline is met."""
        return f"{self.prefix}m:{matter_id}:alerts"

    def hotspot(self, grid: str, category: str) -> str:
        """Sorted set: the city's matters of one (grid, category) within the hotspot window,
        matter id scored by when it was received (epoch ms); see :mod:`streams.hotspots`."""
        return f"{self.prefix}hot:{grid}:{category}"

    def hotspot_alerted(self, grid: str, category: str) -> str:
        """String ``matter id|epoch ms``: the (grid, category)'s last hotspot alert."""
        return f"{self.prefix}hot:{grid}:{category}:alerted"

    def streams_offsets(self) -> str:
        """Hash: the last input offset per ``topic:partition`` whose projection streams/ wrote
        (replayed records below it are not projected twice)."""
        return f"{self.prefix}streams:offsets"

    def token(self, token_hash: str) -> str:
        """Hash: an API token's role, scope and holder, keyed by its SHA-256."""
        return f"{self.prefix}tok:{token_hash}"

    def projection_marker(self) -> str:
        """String: present once the projection store is complete (written by a rebuild of
        an empty store, :mod:`streams.rebuild`); absent after Redis lost its data."""
        return f"{self.prefix}streams:projected"

    def token_index(self) -> str:
        """Set: the hashes of every issued token (for ``gridhub token list``)."""
        return f"{self.prefix}tokens"

    def command_result(self, command_id: str) -> str:
        """List: streams/ pushes the outcome of an applied command here (BLPOP to wait)."""
        return f"{self.prefix}cmd:{command_id}"

    def contact(self, matter_id: str) -> str:
        """String: the reporter's private contact (JSON), kept apart from the matter view."""
        return f"{self.prefix}m:{matter_id}:contact"

    def rate(self, client: str, window: int) -> str:
        """Counter: requests of one client in one rate-limit window."""
        return f"{self.prefix}rl:{client}:{window}"

    def command_pending(self, command_id: str) -> str:
        """Hash: who submitted an API command and for which matter (dispatch/, with a TTL)."""
        return f"{self.prefix}cmdp:{command_id}"

    def one_click(self, command_id: str) -> str:
        """String: a one-click command (一键式指挥) as JSON, written by dispatch/."""
        return f"{self.prefix}oc:{command_id}"

    def one_click_index(self) -> str:
        """Sorted set: one-click command ids scored by issue time (epoch s)."""
        return f"{self.prefix}oc"

    def one_click_acks(self, command_id: str) -> str:
        """Hash: target ("township:T01", "department:ZJJ") → acknowledgement JSON."""
        return f"{self.prefix}oc:{command_id}:acks"

    def rating_secret(self) -> str:
        """String: the HMAC key of citizen rating links when settings give none."""
        return f"{self.prefix}rating:secret"

    def webhook(self, department: str) -> str:
        """String: a department's registered webhook (JSON: url, secret, created_by, ...)."""
        return f"{self.prefix}wh:{department}"

    def webhook_delivery(self, department: str, event_id: str) -> str:
        """String: one webhook delivery's status (JSON), with a TTL."""
        return f"{self.prefix}wh:{department}:d:{event_id}"

    def webhook_log(self, department: str) -> str:
        """List: the department's most recent delivery event ids, newest first (capped)."""
        return f"{self.prefix}wh:{department}:log"

    def webhook_retry(self) -> str:
        """Sorted set: pending deliveries ("<department> <event_id>") scored by next attempt."""
        return f"{self.prefix}wh:retry"

    # --- wallboard gateway (written by its feeder, read by every gateway process) ---

    def wallboard_stream(self) -> str:
        """Stream: every Delta for the hubs in order; the entry id is the global sequence number."""
        return f"{self.prefix}wb:stream"

    def wallboard_offsets(self) -> str:
        """Hash: the feeder's last appended Kafka offset per ``topic:partition``."""
        return f"{self.prefix}wb:offsets"

    def wallboard_seen(self, event_id: str) -> str:
        """String (SET NX + short TTL): a delta id the feeder has already appended."""
        return f"{self.prefix}wb:seen:{event_id}"

    def wallboard_feeder_lock(self) -> str:
        """String (SET NX + PX): held by the one gateway process that runs the feeder."""
        return f"{self.prefix}wb:feeder"

    def wallboard_commands(self) -> str:
        """Hash: one-click commands by id (JSON with their acknowledgements), for snapshots."""
        return f"{self.prefix}wb:commands"

    def wallboard_hourly(self, day: str) -> str:
        """Hash of counters for the trend charts: field ``<hub>|<metric>|<HH>``, one per day."""
        return f"{self.prefix}wb:hourly:{day}"

    def wallboard_counted(self, day: str) -> str:
        """Set: the matters already counted in one day's trend (``a:<id>`` / ``r:<id>``)."""
        return f"{self.prefix}wb:counted:{day}"
