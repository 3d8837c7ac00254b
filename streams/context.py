"""Building the domain :class:`Context` (city, calendar, warning policy) from settings."""

from __future__ import annotations

import logging
from pathlib import Path

from gridhub.citydata import build_city, load_city_file
from gridhub.domain.calendar import WorkCalendar, YearOverride, parse_holiday_file
from gridhub.domain.context import Context
from gridhub.domain.sla import WarningPolicy
from gridhub.settings import Settings

log = logging.getLogger(__name__)


def holiday_overrides(folder: Path | None) -> list[YearOverride]:
    """Every operator holiday file (``*.json``) in ``folder``; a bad file stops the start."""
    if folder is None or not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            out.append(parse_holiday_file(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        log.info("holiday file %s supplies year %d", path, out[-1].year)
    return out


def build_context(settings: Settings) -> Context:
    """The city of ``settings.city_file`` with its warning policy and the working calendar."""
    model = load_city_file(settings.city_file)
    policy = WarningPolicy(
        yellow_share=model.warning_policy.yellow_share,
        ladder=tuple((int(days), str(who)) for days, who in model.warning_policy.ladder),
    )
    calendar = WorkCalendar(holiday_overrides(settings.holiday_dir))
    return Context(build_city(model), calendar, policy)
