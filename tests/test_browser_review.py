"""Peer review in a real browser: a reviewer settles a disputed unit, and its annotators see their karma change
with the reason (Debian's chromium through Playwright, against a real uvicorn server)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.annotate_factories import annotator_account
from tests.test_browser_annotate import browser, open_page, served  # noqa: F401  (fixtures)
from valueprint.accounts.roles import Role

pytestmark = pytest.mark.slow


def test_a_reviewer_settles_a_disputed_unit_and_annotators_see_why_their_karma_changed(served, open_page) -> None:  # noqa: F811
    pid = served.project(["He kept the wallet he found on the bus."], overlap=3, label_schema={"dimensions": ["care"]})
    people = [annotator_account(served.services) for _ in range(3)]
    for i, person in enumerate(people):
        task = served.annotate.next_unit(pid, person.id)
        served.services.annotate_unit(pid, task.unit_id, person.id, {"acceptability": 0 if i == 0 else 4})
    reviewer = served.services.accounts.create(role=Role.REVIEWER)

    page = open_page(reviewer)
    page.goto(f"/annotate/{pid}/review")
    page.click(f"#review-{task.unit_id}")
    expect(page.locator("#review-text")).to_contain_text("wallet")
    expect(page.locator("#given-labels > li")).to_have_count(3)
    page.check("#adjudicate-acceptability-0")
    page.fill("#adjudicate-comment", "Keeping a found wallet is theft.")
    page.click("#adjudicate")
    expect(page).to_have_url(re.compile(f"/annotate/{pid}/review$"))
    expect(page.locator("body")).to_contain_text("the karma of 3 people changed")
    expect(page.locator("#no-disputes")).to_be_visible()

    overturned = open_page(people[1])
    overturned.goto("/annotate/karma")
    event = overturned.locator(".karma-event").first
    expect(event.locator(".karma-delta")).to_have_text("-1")
    expect(event.locator(".karma-reason")).to_contain_text(f"A reviewer overturned your label of unit {task.unit_id}")
    expect(event.locator(".karma-reason")).to_contain_text("Keeping a found wallet is theft.")
    expect(overturned.locator("#karma-total")).to_have_text("-1")

    agreed = open_page(people[0])
    agreed.goto("/annotate/karma")
    expect(agreed.locator(".karma-event .karma-delta").first).to_have_text("+1")
    expect(agreed.locator(".karma-event .karma-reason").first).to_contain_text("your label agreed")
