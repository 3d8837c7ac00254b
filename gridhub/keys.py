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
        """Sorted set: open matters of a hub (city|township|village), scored by deadline."""
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

    def token(self, token_hash: str) -> str:
        """Hash: an API token's role, scope and holder, keyed by its SHA-256."""
        return f"{self.prefix}tok:{token_hash}"

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
