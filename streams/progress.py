"""How far the stream worker's group has read its inputs, for failure messages.

    print(await input_progress(settings))   # "intake[0] 120/120, intake[1] 98/64, ..."

It tells a worker that never read its input (committed below the end) from one that read
everything and lost or never made its outputs (committed at the end).
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from gridhub.settings import Settings
from gridhub.topics import Topics
from streams.app import app_id


async def input_progress(settings: Settings) -> str:
    """Per input partition of the worker's group: ``topic[p] end/committed`` (``-``: none)."""
    topics = Topics.from_settings(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    await admin.start()
    try:
        described = await admin.describe_topics([topics.intake, topics.commands])
        inputs = [
            TopicPartition(d["topic"], p["partition"])
            for d in described
            for p in sorted(d["partitions"], key=lambda p: p["partition"])
        ]
        ends = await consumer.end_offsets(inputs)
        done = await admin.list_consumer_group_offsets(app_id(settings), partitions=inputs)
    finally:
        await consumer.stop()
        await admin.close()
    return ", ".join(
        f"{tp.topic.rsplit('.', 1)[-1]}[{tp.partition}] {ends[tp]}/"
        f"{done[tp].offset if tp in done else '-'}"
        for tp in inputs
    )
