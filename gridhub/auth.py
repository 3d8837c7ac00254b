"""Bearer tokens for every API and WebSocket: opaque, stored hashed, scoped.

A token is ``ghk_`` + 32 random url-safe characters. Only its SHA-256 is ever stored (so a
leaked Redis dump or topic holds no usable token), with the holder, role and scope: in
Redis, where services verify it, and in Kafka (:mod:`gridhub.token_log`), the durable
record Redis is restored from after losing its data. Issue, list and revoke with
``gridhub token ...``; services verify with :func:`verify_token`:

    async with TokenLog(settings) as log:                    # Kafka first, then Redis
        raw, principal = await issue_token(redis, keys, city, user=u, role=r, log=log)
    principal = await verify_token(redis, keys, raw_token)   # None if unknown/revoked/expired
    principal.actor()                                        # the domain Actor for commands

A token issued without a ``log`` lives in Redis only and is gone with its data (tests and
benchmarks that need no durability).

Roles: the people of the command hall (``city_operator``, ``supervisor``, ``leader``,
``township_hub``, ``village_hub``, ``department``, ``grid_worker``, ``auditor``) plus
``intake`` for connector systems (hotline call centres) and ``open311`` for Open311 apps.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from gridhub.domain.commands import Actor
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys

if TYPE_CHECKING:
    from gridhub.token_log import TokenLog

TokenRole = Literal[
    "city_operator",
    "supervisor",
    "leader",
    "township_hub",
    "village_hub",
    "department",
    "grid_worker",
    "auditor",
    "intake",
    "open311",
]
ROLES: tuple[str, ...] = get_args(TokenRole)
TOKEN_PREFIX = "ghk_"
CONNECTOR_ROLES = frozenset({"intake", "open311"})

#: The scope kind each role must carry: city-wide roles, or the unit the holder belongs to.
SCOPE_OF_ROLE: dict[str, str] = {
    "city_operator": "city",
    "supervisor": "city",
    "leader": "city",
    "auditor": "city",
    "intake": "city",
    "open311": "city",
    "township_hub": "township",
    "village_hub": "village",
    "department": "department",
    "grid_worker": "grid",
}


class StoreNotReady(RedisError):
    """The token store is empty because Redis lost its data and the tokens are not restored
    yet (see :mod:`gridhub.token_log`): services answer 503 + Retry-After, like any Redis
    outage, rather than telling a valid caller its token is unknown."""


class TokenError(ValueError):
    """A token request is invalid (unknown role, scope that does not exist, ...)."""


@dataclass(frozen=True)
class Principal:
    """Who a verified token belongs to, and what it may see."""

    token_id: str
    user: str
    role: TokenRole
    scope_kind: str
    scope_code: str
    expires_at: float | None = None

    def actor(self) -> Actor:
        """The domain actor recorded on every command this principal gives.

        Connector tokens (``intake``, ``open311``) submit matters but never act on one, so
        they have no actor: asking for it is a programming error (ValueError).
        """
        if self.role in CONNECTOR_ROLES:
            raise ValueError(f"a {self.role} token submits matters and cannot act on them")
        return Actor(
            user_id=self.user,
            role=self.role,  # type: ignore[arg-type]
            scope_kind=self.scope_kind,  # type: ignore[arg-type]
            scope_code=self.scope_code,
        )


def hash_token(raw: str) -> str:
    """The SHA-256 under which a token is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


def check_scope(city: City, role: str, scope_code: str) -> str:
    """Validate a role and its scope code against the city; return the scope kind."""
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    kind = SCOPE_OF_ROLE[role]
    known = {
        "city": {""},
        "township": set(city.townships),
        "village": set(city.villages),
        "department": set(city.departments),
        "grid": set(city.grids),
    }[kind]
    if kind == "city":
        if scope_code:
            raise TokenError(f"role {role} is city-wide and takes no scope code")
    elif scope_code not in known:
        raise TokenError(f"role {role} needs a {kind} code; {scope_code!r} is not one")
    return kind


def principal_from(digest: str, data: Mapping[str, Any]) -> Principal:
    """The principal stored for the token hashed to ``digest``; TokenError when ``data``
    is not one (unknown or missing fields, unknown role, an id not from ``digest``)."""
    names = {f.name for f in fields(Principal)}
    if set(data) - names or {"token_id", "user", "role", "scope_kind", "scope_code"} - set(data):
        raise TokenError(f"not a principal: fields {sorted(data)}")
    principal = Principal(**data)
    if principal.role not in ROLES or principal.scope_kind != SCOPE_OF_ROLE[principal.role]:
        raise TokenError(f"role {principal.role!r} with scope {principal.scope_kind!r}")
    if principal.token_id != digest[:12]:
        raise TokenError(f"token id {principal.token_id!r} is not the start of its hash")
    if not all(isinstance(v, str) for v in (principal.user, principal.scope_code)):
        raise TokenError("user and scope code must be strings")
    if principal.expires_at is not None and not isinstance(principal.expires_at, int | float):
        raise TokenError(f"expires_at {principal.expires_at!r} is not a time")
    return principal


def store_token(pipe: Any, keys: RedisKeys, digest: str, principal: Principal) -> None:
    """Queue on a Redis pipeline the writes that make the token verifiable (until it
    expires: the key's expiry is the principal's ``expires_at``)."""
    if principal.expires_at is None:
        pipe.set(keys.token(digest), orjson.dumps(asdict(principal)))
    else:
        pxat = int(principal.expires_at * 1000)
        pipe.set(keys.token(digest), orjson.dumps(asdict(principal)), pxat=pxat)
    pipe.sadd(keys.token_index(), digest)


def forget_token(pipe: Any, keys: RedisKeys, digest: str) -> None:
    """Queue on a Redis pipeline the writes that make the token unknown."""
    pipe.delete(keys.token(digest))
    pipe.srem(keys.token_index(), digest)


async def issue_token(
    redis: aioredis.Redis,
    keys: RedisKeys,
    city: City,
    *,
    user: str,
    role: str,
    scope_code: str = "",
    ttl_seconds: int | None = None,
    log: TokenLog | None = None,
) -> tuple[str, Principal]:
    """Create a token; return the raw token (shown once) and its principal. With ``log``
    it is recorded in Kafka (acknowledged) before Redis, so it survives a Redis wipe."""
    kind = check_scope(city, role, scope_code)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(24)
    digest = hash_token(raw)
    expires = time.time() + ttl_seconds if ttl_seconds else None
    principal = Principal(
        token_id=digest[:12],
        user=user,
        role=cast(TokenRole, role),
        scope_kind=kind,
        scope_code=scope_code,
        expires_at=expires,
    )
    if log is not None:
        await log.put(digest, principal)
    pipe = redis.pipeline(transaction=True)
    store_token(pipe, keys, digest, principal)
    await pipe.execute()
    return raw, principal


async def verify_token(redis: aioredis.Redis, keys: RedisKeys, raw: str | None) -> Principal | None:
    """The principal of a raw bearer token, or None when it is missing, unknown, revoked or
    expired. Never raises for a bad token; raises ``RedisError`` when Redis cannot answer,
    including :class:`StoreNotReady` while a wiped store waits for its tokens."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    blob = await redis.get(keys.token(hash_token(raw)))
    if blob is None:
        await _check_store(redis, keys)
        return None
    principal = Principal(**orjson.loads(blob))
    if principal.expires_at is not None and principal.expires_at < time.time():
        return None
    return principal


async def _check_store(redis: aioredis.Redis, keys: RedisKeys) -> None:
    """Raise :class:`StoreNotReady` when Redis holds no token at all and no complete
    projection store: it lost its data and the rebuild has not restored the tokens yet."""
    pipe = redis.pipeline(transaction=False)
    pipe.exists(keys.token_index())
    pipe.exists(keys.projection_marker())
    has_tokens, complete = await pipe.execute()
    if not has_tokens and not complete:
        raise StoreNotReady("the token store is being restored; try again shortly")


async def list_tokens(redis: aioredis.Redis, keys: RedisKeys) -> list[Principal]:
    """Every live token's principal (never the raw token), sorted by role and user."""
    out = []
    for digest in await redis.smembers(keys.token_index()):
        d = digest.decode() if isinstance(digest, bytes) else digest
        blob = await redis.get(keys.token(d))
        if blob is None:
            await redis.srem(keys.token_index(), d)
            continue
        out.append(Principal(**orjson.loads(blob)))
    return sorted(out, key=lambda p: (p.role, p.user, p.token_id))


async def revoke_token(
    redis: aioredis.Redis, keys: RedisKeys, token_id: str, *, log: TokenLog
) -> bool:
    """Revoke the token whose id (the first 12 hex of its hash) is ``token_id``: a tombstone
    in Kafka (acknowledged), then gone from Redis. Found in Redis or, when Redis lost it,
    in the Kafka record; True if found."""
    digests = []
    for digest in await redis.smembers(keys.token_index()):
        d = digest.decode() if isinstance(digest, bytes) else digest
        if d[:12] == token_id:
            digests.append(d)
    if not digests:
        digests = [d for d in await log.live() if d[:12] == token_id]
    for d in digests:
        await log.tombstone(d)
        pipe = redis.pipeline(transaction=True)
        forget_token(pipe, keys, d)
        await pipe.execute()
    return bool(digests)
