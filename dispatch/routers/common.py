"""Parameters shared by the routers (path and query shapes)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

MatterIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="matter id")
]
UnitPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="unit code")
]
StateQuery = Annotated[
    Literal["accepted", "assigned", "signed_for", "in_progress", "resolved", "closed", "merged"]
    | None,
    Query(description="only matters in this state"),
]
LevelQuery = Annotated[
    Literal["none", "yellow", "red", "escalated"] | None,
    Query(description="only matters at this warning level"),
]
CategoryQuery = Annotated[
    str | None, Query(max_length=64, description="only matters of this category code")
]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
