"""The value space and question bank: complete, consistent, and honest about sources."""

from __future__ import annotations

import csv
import json
import re

import pytest

from valueprint.errors import CatalogueError
from valueprint.values.bank import LikertItem, ScenarioItem, SliderItem, check_bank

DESIGN_DIMENSIONS = {
    "schwartz": {
        "self_direction",
        "stimulation",
        "hedonism",
        "achievement",
        "power",
        "security",
        "conformity",
        "tradition",
        "benevolence",
        "universalism",
    },
    "moral": {"care", "fairness", "loyalty", "authority", "sanctity", "liberty"},
    "politics": {"economic", "social"},
    "behaviour": {
        "directness",
        "formality",
        "humour",
        "caution",
        "autonomy",
        "viewpoint_diversity",
        "emotional_support",
        "profanity_tolerance",
    },
}


def test_space_has_every_dimension_of_the_design(space):
    for group, dims in DESIGN_DIMENSIONS.items():
        assert {d.id for d in space.in_group(group)} == dims
    assert space.version
    for dim in space.dimensions:
        assert dim.low and dim.high and dim.description and dim.low != dim.high


def test_touche23_categories_all_map_to_dimensions(space, shared_data):
    header = (shared_data / "touche23_valueeval" / "labels-training.tsv").read_text().splitlines()[0]
    categories = header.split("\t")[1:]
    assert len(categories) == 20
    assert set(space.taxonomy_map("touche23")) == set(categories)


def test_fulcra_and_social_chemistry_labels_exist_in_the_data(space, shared_data):
    fulcra_labels = set()
    with open(shared_data / "value_fulcra" / "trustworthy_data.jsonl") as handle:
        for line in handle:
            fulcra_labels |= {v.split(":")[0].strip() for v in json.loads(line)["value_types"]}
    assert set(space.taxonomy_map("fulcra")) <= fulcra_labels
    assert set(space.taxonomy_map("fulcra")) >= fulcra_labels - {"humility"} - {""}
    foundations = {"care-harm", "fairness-cheating", "loyalty-betrayal", "authority-subversion", "sanctity-degradation"}
    assert set(space.taxonomy_map("social_chemistry")) == foundations


def test_daily_dilemmas_value_names_exist(space, shared_data):
    with open(shared_data / "daily_dilemmas" / "values.csv") as handle:
        rows = list(csv.DictReader(handle))
    names = {row["value"] for row in rows}
    assert set(space.taxonomy_map("daily_dilemmas")) <= names
    assert set(space.taxonomy_map("daily_dilemmas_mft")) == {row["MFT"] for row in rows} - {""}


def test_bank_has_at_least_150_scored_items(bank):
    assert len(bank.items) >= 150


def test_every_dimension_has_four_likert_items_and_a_reverse_keyed_one(bank, space):
    likert = [i for i in bank.items if isinstance(i, LikertItem)]
    for dim in space.ids:
        primary = [i for i in likert if i.primary == dim]
        assert len(primary) >= 4, dim
        assert any(i.reverse_keyed for i in primary), dim


def test_scenarios_state_option_profiles_and_cover_every_dimension(bank, space):
    scenarios = [i for i in bank.items if isinstance(i, ScenarioItem)]
    assert len(scenarios) >= 30
    covered = {dim for s in scenarios for o in s.options for dim in o.profile}
    assert covered == set(space.ids)
    for scenario in scenarios:
        assert 2 <= len(scenario.options) <= 3
        profiles = [tuple(sorted(o.profile.items())) for o in scenario.options]
        assert len(set(profiles)) == len(profiles), f"{scenario.id}: options must differ"


def test_slider_and_skippable_demographics(bank):
    sliders = [i for i in bank.items if isinstance(i, SliderItem)]
    assert [(s.x_dim, s.y_dim) for s in sliders] == [("economic", "social")]
    fields = {f.id for f in bank.demographics}
    assert {"country", "language", "age_band", "religion", "religion_importance", "political_self_placement"} <= fields


def test_every_item_records_its_source(bank):
    for item in bank.items:
        assert item.source.strip(), item.id
        assert item.why.strip(), item.id


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z ]", "", text.lower()).strip()


def test_no_pvq_or_mfq_wording_is_copied(bank, shared_data):
    with open(shared_data / "valuebench" / "value_orientation.csv") as handle:
        protected = {
            _normalise(row["item"])
            for row in csv.DictReader(handle)
            if row["questionnaire"] in {"PVQ40", "MFT08", "MFT23"}
        }
    ours = {_normalise(getattr(i, "text", getattr(i, "prompt", ""))) for i in bank.items}
    assert not ours & protected


def test_items_credited_to_8values_and_ipip_quote_them_exactly(bank, shared_data):
    eight = json.loads((shared_data / "8values" / "questions.json").read_text())
    ipip = {q["text"] for q in json.loads((shared_data / "ipip_neo_120" / "questions_en.json").read_text())}
    credited = 0
    for item in bank.items:
        if not isinstance(item, LikertItem):
            continue
        if item.source.startswith("8values"):
            number = int(re.search(r"question (\d+)", item.source).group(1))
            assert item.text == eight[number - 1]["question"], item.id
            credited += 1
        elif item.source.startswith("IPIP"):
            original = item.text.removeprefix("I ").rstrip(".")  # shown as a first-person sentence
            assert original[0].upper() + original[1:] in ipip, item.id
            credited += 1
    assert credited >= 8


def test_bank_referring_to_an_unknown_dimension_is_refused(bank, space):
    broken_item = LikertItem(id="x-1", text="Some statement.", loadings={"kindness": 0.5}, why="w", source="s")
    broken = bank.model_copy(update={"items": (*bank.items, broken_item)})
    with pytest.raises(CatalogueError, match="x-1"):
        check_bank(broken, space)
