"""Creating gridhub's topics: the fixed ones plus one queue per department.

Topics are created explicitly (never by auto-create) so partition counts are deliberate and
a consumer never subscribes to a topic that does not exist yet.

    ensure_topics(settings, Topics.from_settings(settings).core())
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from gridhub.domain.hierarchy import City
from gridhub.settings import Settings
from gridhub.topics import Topics


def all_topics(topics: Topics, city: City) -> list[str]:
    """The fixed topics (the token record among them) plus ``dept.<code>`` for every
    department of ``city``."""
    return topics.core() + [topics.department(code) for code in sorted(city.departments)]


def topic_configs(settings: Settings, name: str) -> dict[str, str]:
    """The topic-level configs ``name`` is created with: the token record is compacted
    (each token's latest state, kept for as long as the token lives; tombstone = revoked)."""
    if name == Topics.from_settings(settings).tokens:
        return {"cleanup.policy": "compact"}
    return {}


def ensure_topics(settings: Settings, names: Iterable[str], partitions: int | None = None) -> None:
    """Create whichever of ``names`` do not exist yet; existing ones are left as they are."""
    wanted = list(dict.fromkeys(names))
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="gridhub-admin")
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(
                name,
                partitions or settings.topic_partitions,
                settings.replication_factor,
                topic_configs=topic_configs(settings, name),
            )
            for name in wanted
            if name not in existing
        ]
        for topic in new:
            with contextlib.suppress(TopicAlreadyExistsError):  # created concurrently
                admin.create_topics([topic])
    finally:
        admin.close()


def delete_topics_with_prefix(settings: Settings, prefix: str) -> int:
    """Delete every topic whose name starts with ``prefix`` (tests clean up with this)."""
    if not prefix:
        raise ValueError("refusing to delete topics with an empty prefix")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="gridhub-admin")
    try:
        doomed = [t for t in admin.list_topics() if t.startswith(prefix)]
        if doomed:
            admin.delete_topics(doomed)
        return len(doomed)
    finally:
        admin.close()
