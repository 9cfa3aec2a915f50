"""Scenarios from the crowd: a unit people agree is value-laden but groups judge differently becomes a candidate
item with loadings from the labels; a curator approves it and the scoring model asks it after a restart."""

from __future__ import annotations

from tests.annotate_factories import Clock, annotate_for, posts
from tests.test_annotate_api import signed_in
from valueprint.accounts.roles import Role
from valueprint.annotate.readers import Fields
from valueprint.services import Services
from valueprint.values.bank import LikertItem


def annotator_answering(services, value: int, country: str) -> str:
    """An annotator whose Likert answers are all `value`, from `country`."""
    person = services.accounts.create().id
    items = sorted((i for i in services.model.bank.items if isinstance(i, LikertItem)), key=lambda i: i.id)
    for item in items[: services.settings.quick_token_after]:
        services.accounts.record_answer(person, item.id, value)
    services.accounts.set_personal(person, {"country": country})
    return person


def test_a_unit_groups_judge_differently_becomes_an_approved_scenario(web_app, services) -> None:
    annotate = annotate_for(services, Clock())
    pid = annotate.create_project(None, {"name": "S", "segmentation": "posts", "overlap": 10}).id
    annotate.import_items(pid, posts(["He skipped his grandmother's funeral for a job interview."]), Fields(), "t")
    for country, value, acceptability in (("France", 5, 4), ("Peru", 1, 0)):
        for _ in range(5):
            person = annotator_answering(services, value, country)
            task = annotate.next_unit(pid, person)
            services.annotate_unit(pid, task.unit_id, person, {"acceptability": acceptability, "values": {"care": 1}})
    curator = signed_in(web_app, services.accounts.create(role=Role.CURATOR))
    proposed = curator.post(f"/v1/annotate/projects/{pid}/scenarios")
    assert proposed.status_code == 201 and proposed.json() == {"units": 1, "new_candidates": 1}
    found = curator.get("/v1/annotate/scenarios", params={"status": "candidate"}).json()[0]
    assert found["evidence"]["field"] == "country" and found["evidence"]["group_gap"] == 1.0
    a, b = found["options"]
    assert a["profile"] and all(b["profile"][d] == -v for d, v in a["profile"].items())
    decided = curator.post(f"/v1/annotate/scenarios/{found['id']}/decision", json={"approve": True})
    assert decided.json()["status"] == "approved"
    again = curator.post(f"/v1/annotate/scenarios/{found['id']}/decision", json={"approve": False})
    assert again.status_code == 400
    restarted = Services.build(services.settings)
    item = restarted.model.bank.item(f"crowd-{found['unit_id']}")
    assert item.prompt.startswith("Is this acceptable?") and f"crowd-{found['unit_id']}" in restarted.model.item_ids
