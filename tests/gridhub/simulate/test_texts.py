"""Pure tests of the simulated matters' texts: every category of the reference city has its
own templates, each stays on its category, renders in every kind of grid within the intake
limit, names the village where it says so, and a seeded plan always says the same."""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gridhub.citydata import load_city
from gridhub.domain.hierarchy import City, GridKind
from gridhub.intake import MAX_DESCRIPTION, Source
from gridhub.settings import DEFAULT_CITY_FILE
from gridhub.simulate import phrasebook as pb
from gridhub.simulate.actors import intake_request
from gridhub.simulate.plan import Planner
from gridhub.simulate.scenario import load_scenario
from gridhub.simulate.texts import SLOT, Phrasebook, entry_of, fits, place_of, untagged

CHANNEL_KEYS = ("hotline", "app", "patrol")
INERT = set("<>&\"'")  # ASCII characters only the rare special suffix may hold
CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


@pytest.fixture(scope="module")
def city() -> City:
    return load_city(DEFAULT_CITY_FILE)


@pytest.fixture(scope="module")
def words(city: City) -> Phrasebook:
    return Phrasebook(city)


@pytest.fixture(scope="module")
def sample_grids(city: City) -> list[str]:
    """One grid of every kind of place: urban and rural grids, exclusive grids of schools,
    enterprises and markets, in villages and in communities."""
    seen: dict[tuple[str, bool, str | None], str] = {}
    for code in sorted(city.grids):
        p = place_of(city, code)
        seen.setdefault((city.grids[code].kind.value, p.urban, p.unit_kind), code)
    kinds = {k for k, _, _ in seen}
    assert kinds == {k.value for k in GridKind}
    assert {u for _, _, u in seen} >= {None, "company", "school", "market"}
    return sorted(seen.values())


def templates(code: str) -> list[str]:
    entry = entry_of(code)
    return [*entry["issues"], *(t for key in CHANNEL_KEYS for t in entry.get(key, ()))]


def bare(template: str) -> str:
    """A template's own words (tag and placeholders removed)."""
    return SLOT.sub("", untagged(template))


def test_every_category_of_the_city_has_its_own_templates(city: City) -> None:
    assert len(city.categories) == 48
    for code in city.categories:
        entry = pb.CATEGORIES.get(code)
        assert entry is not None, f"no phrasebook entry for {code}"
        assert entry["keywords"] and entry["issues"], code
        for urban in (True, False):  # something to say in a community and in a village
            assert any(fits(t, urban) for t in entry["issues"]), (code, urban)
        assert set(entry) <= {"keywords", "issues", *CHANNEL_KEYS}, code
    assert set(pb.CATEGORIES) == set(city.categories)  # no entry for a category that is gone


def test_every_template_stays_on_its_category_and_is_plain(city: City) -> None:
    owners: dict[str, str] = {}
    for code in city.categories:
        keywords = entry_of(code)["keywords"]
        for template in templates(code):
            words = bare(template)
            assert any(k in words for k in keywords), (code, template)
            assert not INERT & set(template), (code, template)
            assert owners.setdefault(untagged(template), code) == code, template  # not shared
        for issue in entry_of(code)["issues"]:  # framed by every channel: neutral words
            assert "我" not in issue, (code, issue)
    for key in ("opening", "closing", "urgent"):
        for frame in pb.FRAMES.values():
            assert all(not INERT & set(t) for t in frame[key])


def test_every_template_renders_in_every_kind_of_grid(
    city: City, words: Phrasebook, sample_grids: list[str]
) -> None:
    rng = random.Random(7)
    rendered = 0
    for code in [*city.categories, "NO-SUCH-CATEGORY"]:
        for template in templates(code):
            for grid in sample_grids:
                place = place_of(city, grid)
                if not fits(template, place.urban):
                    continue
                text = words.render(rng, template, code, grid)
                rendered += 1
                assert text and len(text) <= MAX_DESCRIPTION
                assert "{" not in text and "}" not in text, text
                if "{village}" in template:
                    assert place.village in text, (template, text)
                if "{place}" in template and place.unit is None:
                    assert place.village in text, (template, text)
                if "{home}" in template:
                    assert place.village in text, (template, text)
    assert rendered > 1000


def test_composed_texts_fit_their_category_channel_and_limit(
    city: City, words: Phrasebook, sample_grids: list[str]
) -> None:
    rng = random.Random(11)
    for code in city.categories:
        keywords = entry_of(code)["keywords"]
        for source in Source:
            for grid in sample_grids:
                for urgency in ("normal", "urgent"):
                    text = words.compose(rng, code, grid, source, urgency)
                    assert 10 <= len(text) <= MAX_DESCRIPTION, text
                    assert any(k in text for k in keywords), (code, text)


def test_texts_differ_across_categories(city: City, words: Phrasebook) -> None:
    grid = sorted(city.grids)[0]
    texts = {
        code: words.compose(random.Random(3), code, grid, Source.APP, "normal")
        for code in city.categories
    }
    assert len(set(texts.values())) == len(texts)


def test_channels_read_differently(city: City, words: Phrasebook) -> None:
    rng = random.Random(5)
    grids = sorted(city.grids)
    by_channel: dict[str, set[str]] = {}
    for source in (Source.HOTLINE_12345, Source.APP, Source.PATROL):
        texts = {
            words.compose(rng, code, rng.choice(grids), source, "normal")
            for code in city.categories
            for _ in range(20)
        }
        by_channel[source.value] = texts
    assert not by_channel["hotline-12345"] & by_channel["app"]
    assert not by_channel["app"] & by_channel["patrol"]
    patrol_words = ("巡查", "走访", "网格员")
    assert all(any(w in t for w in patrol_words) for t in by_channel["patrol"])
    assert not any(t.startswith(pb.FRAMES["patrol"]["opening"]) for t in by_channel["app"])


def test_a_patrol_solved_on_the_spot_says_so(city: City, words: Phrasebook) -> None:
    rng = random.Random(9)
    grid = sorted(city.grids)[100]
    for code in city.categories:
        text = words.compose(rng, code, grid, Source.PATROL, "urgent", solved_on_spot=True)
        assert text.endswith(pb.FRAMES["patrol"]["closing_solved"]) or INERT & set(text)


def test_unknown_categories_get_the_fallback(city: City) -> None:
    other = replace(city.categories["LIV-WATER"], code="X-MANHOLE", name_zh="井盖丢失")
    elsewhere = replace(city, categories={**city.categories, "X-MANHOLE": other})
    words = Phrasebook(elsewhere)
    grid = sorted(city.grids)[0]
    for seed in range(20):
        text = words.compose(random.Random(seed), "X-MANHOLE", grid, Source.APP, "normal")
        assert "井盖丢失" in text


def test_special_characters_in_about_one_matter_in_500(
    city: City, words: Phrasebook, sample_grids: list[str]
) -> None:
    rng = random.Random(13)
    codes = sorted(city.categories)
    texts = [
        words.compose(rng, rng.choice(codes), rng.choice(sample_grids), Source.APP, "normal")
        for _ in range(20_000)
    ]
    special = [t for t in texts if INERT & set(t)]
    assert 15 <= len(special) <= 80  # expected 40
    for text in special:
        assert set(text) >= INERT  # each carries all of < > & " '
        assert not re.search(r"<\s*[A-Za-z/!?]", text)  # nothing a parser takes for a tag


def test_reporter_names_are_varied_and_plausible(words: Phrasebook) -> None:
    rng = random.Random(17)
    app = [words.reporter(rng, Source.APP) for _ in range(3000)]
    hotline = [words.reporter(rng, Source.HOTLINE_12345) for _ in range(3000)]
    assert all(CJK_NAME.match(n) for n in app + hotline)
    assert len(set(app)) > 1000
    assert not any(n.endswith(("先生", "女士")) for n in app)
    polite = sum(n.endswith(("先生", "女士")) for n in hotline) / len(hotline)
    assert abs(polite - pb.SURNAME_ONLY_SHARE) < 0.05
    surnames = Counter(n[0] for n in app)
    assert surnames.most_common(1)[0][0] in "王李张刘" and len(surnames) > 30
    assert "市民" not in app + hotline


def test_same_seed_same_texts(city: City) -> None:
    scenario = load_scenario("shulan-2021-2022")
    a = Planner(scenario, city, "t").replay(1 / 50)
    b = Planner(scenario, city, "t").replay(1 / 50)
    other = Planner(scenario, city, "t").replay(1 / 50, seed=1)
    said = [(p.text, p.reporter) for p in a]
    assert said == [(p.text, p.reporter) for p in b]
    assert said != [(p.text, p.reporter) for p in other]
    assert all(p.text and p.reporter for p in a)
    assert len({p.text for p in a}) > 0.95 * len(a)  # varied, not a handful of phrases
    for p in a:
        assert any(k in p.text for k in entry_of(p.category)["keywords"]), p.text


def test_live_draws_are_seeded_too(city: City) -> None:
    planner = Planner(load_scenario("default"), city, "t")
    now = datetime(2026, 3, 2, 10, tzinfo=UTC)
    rng_a, rng_b = random.Random(4), random.Random(4)
    first = [planner.draw(rng_a, i, now) for i in range(200)]
    again = [planner.draw(rng_b, i, now) for i in range(200)]
    assert [(p.text, p.reporter) for p in first] == [(p.text, p.reporter) for p in again]
    assert len({p.text for p in first}) > 190


def test_intake_requests_carry_the_text_and_the_reporter(city: City) -> None:
    plans = Planner(load_scenario("shulan-2021-2022"), city, "t").replay(1 / 200)
    seen = set()
    for plan in plans:
        for source in Source:
            _, body, _ = intake_request(replace(plan, source=source), dated=False)
            text = body.get("content") or body.get("description") or body.get("found")
            assert text == plan.text
            name = body.get("caller_name") or (body.get("contact") or {}).get("name")
            name = name or body.get("first_name")
            if source != Source.PATROL:
                assert name == plan.reporter
            seen.add(source)
    assert seen == set(Source)
