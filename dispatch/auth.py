"""Who is calling and what they may see: bearer token → Principal, role gates, scope checks.

    p: Principal = Depends(require(*OWNER_ROLES))      # 401 without a valid token, 403 by role
    view = await load_view(svc, p, matter_id)           # 404 when missing or out of scope

Tokens are :mod:`gridhub.auth`'s. Visibility reuses :func:`gridhub.domain.scopes.can_see`;
grid workers (scope ``grid``) see the matters of their own grid.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import orjson
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dispatch.deps import Services, Svc
from dispatch.errors import ApiError, forbidden, not_found
from gridhub.auth import Principal, verify_token
from gridhub.domain.hierarchy import City
from gridhub.domain.scopes import Scope, can_see

CITY_ROLES = frozenset({"city_operator", "supervisor", "leader", "auditor"})
HUB_ROLES = frozenset({"township_hub", "village_hub"})
#: Everyone who works in the command system (the ``intake`` role of connectors is not).
STAFF = CITY_ROLES | HUB_ROLES | {"department", "grid_worker"}
#: Roles that may hold a matter and so act as its owner.
OWNER_ROLES = HUB_ROLES | {"department", "city_operator", "leader"}

_bearer = HTTPBearer(
    auto_error=False,
    description="a gridhub API token (`gridhub token issue --role ... --scope ...`)",
)


async def principal(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    svc: Svc,
) -> Principal:
    """The caller's principal; 401 with ``WWW-Authenticate: Bearer`` when there is none."""
    raw = creds.credentials if creds is not None else None
    found = await verify_token(svc.redis, svc.keys, raw)
    if found is None:
        raise ApiError(
            401,
            "unauthorized",
            "a valid bearer token is required",
            headers={"WWW-Authenticate": 'Bearer realm="gridhub"'},
        )
    return found


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only ``roles`` through (403 for any other valid token)."""
    allowed = frozenset(roles)

    async def check(p: Annotated[Principal, Depends(principal)]) -> Principal:
        if p.role not in allowed:
            raise forbidden(f"role {p.role} may not do this; allowed: {', '.join(sorted(allowed))}")
        return p

    return check


def scope_of(p: Principal) -> Scope | None:
    """The visibility scope of a principal (None for a grid worker or a connector)."""
    if p.role in CITY_ROLES:
        return Scope("city", "")
    if p.scope_kind in ("township", "village", "department"):
        return Scope(p.scope_kind, p.scope_code)  # type: ignore[arg-type]
    return None


def view_fields(view: Mapping[str, Any]) -> dict[str, Any]:
    """The fields :func:`gridhub.domain.scopes.can_see` needs, from a MatterView."""
    owner = view.get("owner") or {}
    return {
        "grid": view.get("grid"),
        "village": view.get("village"),
        "township": view.get("township"),
        "owner_kind": owner.get("kind"),
        "owner_code": owner.get("code"),
        "departments": view.get("departments") or [],
    }


def can_view(p: Principal, view: Mapping[str, Any], city: City) -> bool:
    """Whether ``p`` may see the matter ``view``."""
    if p.role == "grid_worker":
        return p.scope_kind == "grid" and view.get("grid") == p.scope_code
    scope = scope_of(p)
    return scope is not None and can_see(scope, view_fields(view), city)


def holds(p: Principal, view: Mapping[str, Any]) -> bool:
    """Whether ``p`` is the matter's current holder (the owning hub, department, ...)."""
    owner = view.get("owner") or {}
    kind, code = owner.get("kind"), owner.get("code")
    if kind == "city":
        return p.role == "city_operator"
    if kind == "leader":
        return p.role == "leader"
    role = {"village": "village_hub", "township": "township_hub", "department": "department"}
    return p.role == role.get(str(kind)) and p.scope_code == code


async def read_view(svc: Services, matter_id: str) -> dict[str, Any] | None:
    """The projected MatterView of ``matter_id``, or None when there is none."""
    blob = await svc.redis.get(svc.keys.matter(matter_id))
    if blob is None:
        return None
    view: dict[str, Any] = orjson.loads(blob)
    return view


async def load_view(svc: Services, p: Principal, matter_id: str) -> dict[str, Any]:
    """The matter's view if ``p`` may see it; 404 otherwise (never says which)."""
    view = await read_view(svc, matter_id)
    if view is None or not can_view(p, view, svc.city):
        raise not_found()
    return view


def require_unit(p: Principal, kind: str, code: str) -> None:
    """404 unless ``p`` is a city-wide role or belongs to the unit ``kind``/``code``.

    A township may also look at its own villages.
    """
    if p.role in CITY_ROLES:
        return
    if p.scope_kind == kind and p.scope_code == code:
        return
    raise not_found(kind)
