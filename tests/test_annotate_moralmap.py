"""The moral map: positions from value profiles, group centroids with bootstrap intervals, groups under k
suppressed with complementary suppression (a rare group is never named), per-unit acceptability by group,
and the page, API and PNG/SVG export."""

from __future__ import annotations

import numpy as np
import pytest

from tests.annotate_factories import Clock, annotate_for, annotator_account, posts
from tests.test_annotate_api import signed_in
from valueprint.annotate import moralmap
from valueprint.annotate.moralmap import Member, build, position
from valueprint.annotate.readers import Fields


def test_axes_are_signed_means_of_our_dimensions() -> None:
    assert position({}) == (0.0, 0.0)
    traditional = {d: 1.0 for d in ("tradition", "conformity", "authority", "sanctity", "loyalty")}
    assert position(traditional) == (-1.0, 0.0)
    expressive = {"self_direction": 1, "universalism": 1, "liberty": 1, "stimulation": 1, "security": -1, "power": -1}
    assert position(expressive) == (0.0, 1.0)


def members(countries: dict[str, int], seed: int = 0) -> list[Member]:
    rng = np.random.default_rng(seed)
    out = []
    for country, n in countries.items():
        for i in range(n):
            out.append(Member(f"{country}{i}", tuple(rng.normal(0, 0.2, 2)), {"country": country}))
    return out


def test_a_rare_group_is_never_named_and_its_complement_is_suppressed() -> None:
    found = build(members({"France": 7, "Peru": 5, "Iceland": 1}), "country", k=5, rounds=200)
    names = [g["group"] for g in found["groups"]]
    assert "Iceland" not in names and "Peru" not in names  # Peru joins the pool: Iceland alone would be computable
    assert names == ["France", "other answers"] and found["groups"][1]["n"] == 6
    two_rare = build(members({"France": 7, "Peru": 5, "Iceland": 1, "Chad": 1}), "country", k=5, rounds=200)
    assert [(g["group"], g["n"]) for g in two_rare["groups"]] == [("France", 7), ("other answers", 7)]
    assert two_rare["suppressed_groups"] == 3  # a pool of 2 would be computable: Peru joins it
    assert build(members({"France": 4}), "country", k=5)["hidden"]


def test_centroids_come_with_bootstrap_intervals_that_narrow_with_group_size() -> None:
    found = build(members({"A": 6, "B": 60}), "country", k=5, rounds=400)
    widths = {g["group"]: g["interval"][0][1] - g["interval"][0][0] for g in found["groups"]}
    assert widths["B"] < widths["A"]
    for g in found["groups"]:
        assert g["interval"][0][0] <= g["centroid"][0] <= g["interval"][0][1]


def test_images_render_as_png_and_svg() -> None:
    found = build(members({"A": 6, "B": 8}), "country", k=5, rounds=100)
    assert moralmap.render(found, "png").startswith(b"\x89PNG")
    assert b"<svg" in moralmap.render(found, "svg")[:500]


@pytest.fixture
def mapped(services):
    """A project annotated by 8 people from France, 5 from Peru and 1 from Iceland."""
    annotate = annotate_for(services, Clock())
    pid = annotate.create_project(None, {"name": "M", "segmentation": "posts", "overlap": 20}).id
    annotate.import_items(pid, posts(["She ate meat on a fast day."]), Fields(), "t")
    accounts = []
    for country, n in (("France", 8), ("Peru", 5), ("Iceland", 1)):
        for i in range(n):
            account = annotator_account(services)
            services.accounts.set_personal(account.id, {"country": country})
            task = annotate.next_unit(pid, account.id)
            services.annotate_unit(
                pid, task.unit_id, account.id, {"acceptability": 4 if country == "France" else i % 5}
            )
            accounts.append(account)
    return pid, task.unit_id, accounts


def test_the_map_page_api_and_export_hide_the_rare_group(web_app, services, mapped) -> None:
    pid, unit_id, accounts = mapped
    browser = signed_in(web_app, accounts[0])
    found = browser.get("/v1/annotate/map", params={"field": "country"}).json()
    assert found["people"] == 14 and [g["group"] for g in found["groups"]] == ["France", "other answers"]
    page = browser.get("/annotate/map")
    assert page.status_code == 200 and "France" in page.text and "Iceland" not in page.text
    svg = browser.get("/v1/annotate/map.svg", params={"field": "country"})
    assert svg.headers["content-type"] == "image/svg+xml" and b"Iceland" not in svg.content
    assert browser.get("/v1/annotate/map.png").content.startswith(b"\x89PNG")
    groups = browser.get(f"/v1/annotate/projects/{pid}/units/{unit_id}/groups").json()
    assert groups["groups"][0] == {"group": "France", "n": 8, "mean_acceptability": 4.0, "share_acceptable": 1.0}
    assert "Iceland" not in str(groups)
