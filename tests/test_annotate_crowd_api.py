"""The annotation quality API and pages: gold for curators, agreement and consensus for reviewers (by role or
karma), everyone's own gold record and karma."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.annotate_factories import Clock, annotate_for, annotator_account, posts
from tests.test_annotate_api import signed_in
from valueprint.accounts.roles import Role
from valueprint.annotate.readers import Fields


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


@pytest.fixture
def curator(web_app, services, annotate) -> Iterator[TestClient]:
    with signed_in(web_app, services.accounts.create(role=Role.CURATOR)) as browser:
        yield browser


def labelled_project(services, annotate, people: int = 3) -> tuple[str, list]:
    pid = annotate.create_project(None, {"name": "Q", "segmentation": "posts", "overlap": people, "gold_share": 0.2}).id
    annotate.import_items(pid, posts(["He lied to his boss.", "She fed the cat.", "They shouted."]), Fields(), "t")
    accounts = [annotator_account(services) for _ in range(people)]
    for i, account in enumerate(accounts):
        for _ in range(3):
            task = annotate.next_unit(pid, account.id)
            services.annotate_unit(pid, task.unit_id, account.id, {"acceptability": (i + task.unit_id) % 5})
    return pid, accounts


def test_curators_add_gold_and_see_every_record(curator, participant_client, services, annotate) -> None:
    pid, _ = labelled_project(services, annotate)
    added = curator.post(f"/v1/annotate/projects/{pid}/gold", json={"source": "moral_stories", "limit": 5})
    assert added.status_code == 201 and added.json() == {"gold_units": 5, "duplicates": 0}
    refused = participant_client.post(f"/v1/annotate/projects/{pid}/gold", json={"source": "touche23"})
    assert refused.status_code == 403
    bad = curator.post(f"/v1/annotate/projects/{pid}/gold", json={"source": "ethics"})
    assert bad.status_code == 422
    records = curator.get(f"/v1/annotate/projects/{pid}/gold/records").json()
    assert len(records) == 3 and all(r["units"] == 0 for r in records)


def test_agreement_and_consensus_are_for_reviewers(web_app, curator, participant_client, services, annotate) -> None:
    pid, accounts = labelled_project(services, annotate)
    fresh = signed_in(web_app, accounts[0])
    refused = fresh.get(f"/v1/annotate/projects/{pid}/agreement")
    assert refused.status_code == 403 and "reviewing unlocks at 15 karma" in refused.json()["error"]["message"]
    found = curator.get(f"/v1/annotate/projects/{pid}/agreement").json()
    assert found["units"] == 3 and found["labels"][0]["label"] == "acceptability"
    consensus = curator.get(f"/v1/annotate/projects/{pid}/consensus").json()
    assert len(consensus) == 3 and {"consensus", "confidence", "majority"} <= set(consensus[0]["acceptability"])
    page = curator.get(f"/annotate/{pid}/quality")
    assert page.status_code == 200 and "Project alpha" in page.text and "He lied to his boss." in page.text


def test_everyone_sees_their_own_karma_with_reasons(web_app, services, annotate) -> None:
    pid = annotate.create_project(None, {"name": "G", "segmentation": "posts", "gold_share": 0.5}).id
    services.crowd.add_gold(pid, "moral_stories", limit=2)
    account = annotator_account(services)
    task = annotate.next_unit(pid, account.id)
    services.annotate_unit(pid, task.unit_id, account.id, {"acceptability": 2})
    browser = signed_in(web_app, account)
    karma = browser.get("/v1/annotate/me/karma").json()
    assert len(karma["events"]) == 1 and "known answer" in karma["events"][0]["reason"]
    assert karma["weight"] <= 0.25 and not karma["may_review"]  # a fresh account weighs little
    page = browser.get("/annotate/karma")
    assert page.status_code == 200 and karma["events"][0]["reason"] in page.text
    assert browser.get(f"/v1/annotate/projects/{pid}/gold/me").json()["units"] == 1


def test_admins_see_the_annotation_figures(web_app, services, annotate) -> None:
    labelled_project(services, annotate)
    admin = signed_in(web_app, services.accounts.create(role=Role.ADMIN))
    found = admin.get("/v1/admin/annotation").json()
    assert sum(d["labels"] for d in found["throughput"]) == 9
    assert found["reviewer_backlog"][0]["project"] == "Q" and len(found["agreement_over_time"][0]["weeks"]) == 8
    assert {"karma_distribution", "gold_accuracy_distribution", "flagged_annotators"} <= set(found)
    page = admin.get("/admin")
    assert page.status_code == 200 and "Reviewer backlog" in page.text
