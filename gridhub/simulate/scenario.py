"""Scenario files of the simulator: what matters look like and how the other actors behave.

    scenario = load_scenario("default")                 # gridhub/simulate/scenarios/default.yaml
    scenario = load_scenario("shulan-2021-2022")        # the seed's replay, exact totals
    scenario = load_scenario(Path("my.yaml"))           # any file of the same shape

Weights are relative (they need not sum to 1). Durations are text: ``30s``, ``15m``, ``2h``,
``3d``. Every figure that comes from the seed report is marked so in the YAML; the rest are
chosen defaults, said so there too.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridhub.citydata import GROUPS
from gridhub.intake import Source

SCENARIO_DIR = Path(__file__).parent / "scenarios"
SOLVERS: tuple[str, ...] = ("grid", "village", "township", "department")
#: Channels whose intake takes the time of the original record (back-dating works).
DATED_CHANNELS = frozenset(
    {Source.HOTLINE_12345, Source.HOTLINE_BUSINESS, Source.APP, Source.PATROL}
)
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ScenarioError(ValueError):
    """A scenario file is missing or invalid; the message names the file and the field."""


def parse_duration(text: str) -> float:
    """Seconds of a duration text such as ``15m`` or ``1.5d``; ValueError if malformed."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"expected a duration like 30s, 15m, 2h or 3d, got {text!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


def _duration(text: str) -> str:
    parse_duration(text)
    return text


DurationText = Annotated[str, AfterValidator(_duration)]
Weight = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Delay(_Model):
    """A log-normal delay in simulated time: ``median`` × e^(spread·N(0,1)), clipped to
    [median/20, median×20]."""

    median: DurationText
    spread: float = Field(default=0.6, ge=0, le=3)

    @property
    def median_seconds(self) -> float:
        """The median in seconds."""
        return parse_duration(self.median)


class ActorBehaviour(_Model):
    """How one kind of holder behaves: delays of each step and how often it fails."""

    sign_for: Delay = Delay(median="20m")
    work: Delay = Delay(median="1d", spread=0.8)
    pass_on: Delay = Delay(median="2h", spread=0.7)
    failure_rate: Share = Field(
        default=0.03, description="department: returns it; hub: asks extension"
    )
    extension_rate: Share = 0.02


class Actors(_Model):
    """Behaviour per holder kind, the citizens' ratings, and the chronically late departments."""

    village: ActorBehaviour = ActorBehaviour()
    township: ActorBehaviour = ActorBehaviour(work=Delay(median="2d", spread=0.8))
    city: ActorBehaviour = ActorBehaviour(
        sign_for=Delay(median="10m"), pass_on=Delay(median="30m"), failure_rate=0
    )
    department: ActorBehaviour = ActorBehaviour(work=Delay(median="3d", spread=0.8))
    report_in: Delay = Delay(median="3h", spread=0.7)
    late_departments: list[str] = Field(default_factory=list)
    late_factor: float = Field(default=8.0, ge=1, le=1000)
    urge_after: DurationText = "2d"
    supervise_after: DurationText = "5d"
    decide: Delay = Delay(median="2h")
    ack: Delay = Delay(median="3m")


class Ratings(_Model):
    """Citizens' ratings: who rates, when, and what they say (not satisfied → reopen)."""

    share: Share = 0.75
    delay: Delay = Delay(median="1d", spread=0.7)
    satisfied: Weight = 85
    basically_satisfied: Weight = 11
    not_satisfied: Weight = 4
    close_unrated: Share = Field(default=0.5, description="unrated results the operator closes")
    close_after: DurationText = "3d"


class TimeConfig(_Model):
    """``live``: matters are received now. ``historic``: received times are back-dated over
    [start, end) and sent with the record (only hotline, app and patrol intake carry one)."""

    mode: Literal["live", "historic"] = "live"
    start: datetime | None = None
    end: datetime | None = None
    accel: float = Field(default=60.0, gt=0, description="simulated seconds per real second")

    @model_validator(mode="after")
    def _period(self) -> TimeConfig:
        if self.mode == "historic":
            if self.start is None or self.end is None:
                raise ValueError("historic mode needs start and end")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise ValueError("start and end need a time zone, e.g. +08:00")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        return self


class GroupTotal(_Model):
    """Exact figures of one category group in a replay."""

    accepted: int = Field(ge=0)
    completed: int = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> GroupTotal:
        if self.completed > self.accepted:
            raise ValueError("completed cannot exceed accepted")
        return self


class Figure(_Model):
    """One figure of the seed report the replay must reproduce, and where the report has it."""

    label: str
    counter: Literal["accepted", "completed"]
    group: str | None = None
    value: int = Field(ge=0)


class Scenario(_Model):
    """A whole scenario file."""

    name: str
    description: str = ""
    seed: int = 20210701
    time: TimeConfig = TimeConfig()
    rate: float = Field(default=2.0, gt=0, description="live: matters per real second")
    channels: dict[Source, Weight]
    groups: dict[str, Weight]
    categories: dict[str, Weight] = Field(default_factory=dict)
    urgent_share: Share = 0.08
    solvers: dict[str, Weight]
    completion: Share = Field(
        default=0.9939, description="live: share of matters that get completed"
    )
    daily: list[Weight] = Field(min_length=24, max_length=24)
    weekly: list[Weight] = Field(min_length=7, max_length=7)
    whistle_share: Share = 0.25
    one_click_share: Share = 0.3
    actors: Actors = Actors()
    ratings: Ratings = Ratings()
    totals: dict[str, GroupTotal] | None = None
    figures: list[Figure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for name in (*self.groups, *(self.totals or {})):
            if name not in GROUPS:
                raise ValueError(f"unknown group {name!r}; one of {', '.join(GROUPS)}")
        for name in self.solvers:
            if name not in SOLVERS:
                raise ValueError(f"unknown solver {name!r}; one of {', '.join(SOLVERS)}")
        for label, weights in (
            ("channels", self.channels),
            ("groups", self.groups),
            ("solvers", self.solvers),
        ):
            if not any(w > 0 for w in weights.values()):
                raise ValueError(f"{label}: at least one weight must be positive")
        if sum(self.daily) <= 0 or sum(self.weekly) <= 0:
            raise ValueError("daily and weekly need a positive weight")
        if self.solver_share("grid") > self.channel_share(Source.PATROL) + 1e-9:
            raise ValueError(
                "grid-solved matters come from patrols: solvers.grid > channels.patrol"
            )
        if self.time.mode == "historic":
            undated = [
                s.value for s, w in self.channels.items() if w > 0 and s not in DATED_CHANNELS
            ]
            if undated:
                raise ValueError(f"historic mode: {', '.join(undated)} intake takes no record time")
        for fig in self.figures:
            if fig.group is not None and fig.group not in GROUPS:
                raise ValueError(f"figure {fig.label!r}: unknown group {fig.group!r}")
        return self

    def channel_share(self, source: Source) -> float:
        """The share of ``source`` among all channels."""
        return self.channels.get(source, 0.0) / sum(self.channels.values())

    def solver_share(self, solver: str) -> float:
        """The share of matters solved at ``solver`` (grid, village, township, department)."""
        return self.solvers.get(solver, 0.0) / sum(self.solvers.values())


def scaled_totals(totals: dict[str, GroupTotal], scale: float) -> dict[str, GroupTotal]:
    """Group totals at ``scale``: accepted rounded (at least 1 where there were any); open
    matters (accepted − completed) rounded up, so a group with open matters keeps one."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    out: dict[str, GroupTotal] = {}
    for group, t in totals.items():
        if scale == 1:
            out[group] = t
            continue
        accepted = max(1, round(t.accepted * scale)) if t.accepted else 0
        still_open = min(accepted, math.ceil((t.accepted - t.completed) * scale))
        out[group] = GroupTotal(accepted=accepted, completed=accepted - still_open)
    return out


def scenario_path(name: str | Path) -> Path:
    """The file of a scenario given by name (``default``) or path."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return SCENARIO_DIR / f"{name}.yaml"


def available() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


def load_scenario(name: str | Path) -> Scenario:
    """Read and validate a scenario; raise :class:`ScenarioError` naming the file and field."""
    path = scenario_path(name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(
            f"no scenario {str(name)!r}; bundled: {', '.join(available())}"
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ScenarioError(f"{path}: {where}: {msg}") from None
