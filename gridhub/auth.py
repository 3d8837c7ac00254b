"""Bearer tokens for every API and WebSocket: opaque, stored hashed in Redis, scoped.

A token is ``ghk_`` + 32 random url-safe characters. Redis keeps only its SHA-256 (so a
leaked Redis dump holds no usable token) with the holder, role and scope. Issue, list and
revoke with ``gridhub token ...``; services verify with :func:`verify_token`:

    principal = await verify_token(redis, keys, raw_token)   # None if unknown/revoked/expired
    principal.actor()                                        # the domain Actor for commands

Roles: the people of the command hall (``city_operator``, ``supervisor``, ``leader``,
``township_hub``, ``village_hub``, ``department``, ``grid_worker``, ``auditor``) plus
``intake`` for connector systems (hotline call centres) and ``open311`` for Open311 apps.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Literal, cast, get_args

import orjson
import redis.asyncio as aioredis

from gridhub.domain.commands import Actor
from gridhub.domain.hierarchy import City
from gridhub.keys import RedisKeys

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


async def issue_token(
    redis: aioredis.Redis,
    keys: RedisKeys,
    city: City,
    *,
    user: str,
    role: str,
    scope_code: str = "",
    ttl_seconds: int | None = None,
) -> tuple[str, Principal]:
    """Create a token; return the raw token (shown once) and its principal."""
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
    await redis.set(keys.token(digest), orjson.dumps(asdict(principal)), ex=ttl_seconds)
    await redis.sadd(keys.token_index(), digest)
    return raw, principal


async def verify_token(redis: aioredis.Redis, keys: RedisKeys, raw: str | None) -> Principal | None:
    """The principal of a raw bearer token, or None when it is missing, unknown, revoked or
    expired. Never raises for a bad token."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    blob = await redis.get(keys.token(hash_token(raw)))
    if blob is None:
        return None
    principal = Principal(**orjson.loads(blob))
    if principal.expires_at is not None and principal.expires_at < time.time():
        return None
    return principal


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


async def revoke_token(redis: aioredis.Redis, keys: RedisKeys, token_id: str) -> bool:
    """Revoke the token whose id (first 12 hex of its hash) is ``token_id``; True if found."""
    for digest in await redis.smembers(keys.token_index()):
        d = digest.decode() if isinstance(digest, bytes) else digest
        if d.startswith(token_id):
            await redis.delete(keys.token(d))
            await redis.srem(keys.token_index(), d)
            return True
    return False
