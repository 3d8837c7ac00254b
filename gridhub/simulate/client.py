"""HTTP clients of the system's public interfaces: intake and the dispatch API (httpx).

    http = Http("http://127.0.0.1:8082", concurrency=64)
    resp = await http.request("POST", "/v1/matters/M1/sign-for", token=t, json={})

Every request waits for a slot (``concurrency`` in flight), and is retried on 429 and 503
(honouring ``Retry-After``), on 500/502/504 and on connection errors, with capped backoff.
Retrying a command after a 5xx is safe with the dispatch API: a repeat of a command that
did take effect is refused (409) by the domain, which the caller can tell by
``resp.extensions[RETRIED]``; the few that are not refused (a progress note, an urge) are
harmless.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: set in ``response.extensions`` when a 5xx was retried: the first try may have taken effect
RETRIED = "gridhub_sim_retried_5xx"


class SimHttpError(RuntimeError):
    """A request failed for good (after retries); ``status`` 0 means no answer at all."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: {status} {body[:300]}")
        self.status = status
        self.body = body


def retry_after(resp: httpx.Response, attempt: int, cap: float) -> float:
    """Seconds to wait before retrying ``resp``: its Retry-After, else exponential backoff."""
    header = resp.headers.get("retry-after", "")
    try:
        return min(cap, max(0.05, float(header)))
    except ValueError:
        return min(cap, 0.2 * 2**attempt)


class Http:
    """One base URL, a bounded number of requests in flight, retries on overload."""

    def __init__(
        self,
        base_url: str,
        *,
        concurrency: int = 64,
        retries: int = 10,
        timeout: float = 30.0,
        max_wait: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.slots = asyncio.Semaphore(concurrency)
        self.retries = retries
        self.max_wait = max_wait
        self.stats: Counter[str] = Counter()

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        api_key: str | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """The response (any status but the retried ones); raise :class:`SimHttpError` when
        retries run out."""
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if api_key:
            headers["X-Api-Key"] = api_key
        last = "no answer"
        retried = False
        for attempt in range(self.retries + 1):
            try:
                async with self.slots:
                    resp = await self.client.request(
                        method, path, headers=headers, json=json, data=data, params=params
                    )
            except httpx.TransportError as exc:
                self.stats["transport_retry"] += 1
                last = f"{type(exc).__name__}: {exc}"
                await asyncio.sleep(min(self.max_wait, 0.2 * 2**attempt))
                continue
            if resp.status_code not in RETRY_STATUSES:
                if retried:
                    resp.extensions[RETRIED] = True
                return resp
            retried = retried or resp.status_code >= 500
            self.stats[f"retry_{resp.status_code}"] += 1
            last = resp.text
            await asyncio.sleep(retry_after(resp, attempt, self.max_wait))
        raise SimHttpError(method, path, 0, last)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
