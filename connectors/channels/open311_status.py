"""The Open311 view of a matter: spec field names, status from the projection if present.

    request_view(city, seen_doc, matter_view_or_None) -> dict

``matter_view`` is the JSON streams/ keeps at ``RedisKeys.matter(id)`` (state, owner,
deadlines, updated_at, ...); until it exists, intake's own record (``intake_seen``) speaks.
The reporter's contact is in neither and never shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gridhub.domain.hierarchy import City

OPEN_STATES = frozenset({"accepted", "assigned", "signed_for", "in_progress"})
_NOTES = {
    "accepted": "accepted (受理); awaiting assignment",
    "assigned": "assigned (派单) to {agency}",
    "signed_for": "signed for (签收) by {agency}",
    "in_progress": "being handled (办理) by {agency}",
    "resolved": "resolved (办结)",
    "closed": "closed",
    "merged": "merged into another request about the same problem",
}


def agency_name(city: City, owner: Mapping[str, Any] | None) -> str | None:
    """The display name of a matter's owner (a hub or a department), or None."""
    if not owner:
        return None
    kind, code = owner.get("kind"), str(owner.get("code", ""))
    if kind == "department" and code in city.departments:
        return city.departments[code].name_zh
    if kind == "township" and code in city.townships:
        return city.townships[code].name_zh
    if kind == "village" and code in city.villages:
        return city.villages[code].name_zh
    if kind in ("city", "leader"):
        return city.name_zh
    return code or None


def request_view(
    city: City, seen: Mapping[str, Any], view: Mapping[str, Any] | None
) -> dict[str, Any]:
    """One service request in GeoReport v2 field names."""
    state = str((view or seen).get("state") or "accepted")
    if view:
        agency = agency_name(city, view.get("owner"))
        due = ((view.get("deadlines") or {}).get("resolve") or {}).get("due_at")
        updated = view.get("updated_at") or seen.get("updated_at")
    else:
        agency = agency_name(city, {"kind": "village", "code": seen.get("village")})
        due, updated = None, seen.get("updated_at")
    notes = _NOTES.get(state, state).format(agency=agency or "the responsible unit")
    if state == "resolved" and seen.get("solved_on_spot") and not view:
        notes = f"solved on the spot by the grid worker: {seen.get('result', '')}"
    category = city.categories.get(str(seen.get("category")))
    media = seen.get("attachments") or []
    return {
        "service_request_id": seen["matter_id"],
        "status": "open" if state in OPEN_STATES else "closed",
        "status_notes": notes,
        "service_name": category.name_zh if category else seen.get("category"),
        "service_code": seen.get("category"),
        "description": seen.get("description"),
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": seen.get("received_at"),
        "updated_datetime": updated,
        "expected_datetime": due,
        "address": seen.get("address"),
        "address_id": seen.get("grid"),
        "zipcode": None,
        "lat": seen.get("lat"),
        "long": seen.get("lon"),
        "media_url": media[0] if media else None,
    }
