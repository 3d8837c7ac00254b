"""The pure domain core: plain functions and dataclasses, no Kafka, Redis, HTTP or asyncio."""
