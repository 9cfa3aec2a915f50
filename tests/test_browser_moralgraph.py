"""The moral graph's journey in a real browser (Debian's chromium through Playwright) against a real uvicorn
server: a new person writes a card in a context (with a suggestion of similar policies shown, used only by
choice), judges five transitions, sees the graph drawn and the winning value, and says whether it
represents them; then a chat about the same situation, through the live server's chat endpoint, says in its
notes that the graph was consulted and which value it drew on (issue 17's "Done when", end to end). Other
people's cards and judgements are made through the domain beforehand; embeddings are the word-overlap
stand-in (`moralgraph_factories.words`) and the chat model a recording double, so no model is loaded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from tests.conftest import live_server
from tests.moralgraph_factories import VALUES, four_values, grief_context, judge_all, person, stories_upward, words
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_moralgraph_product import RecordingUpstream
from valueprint.personalize.engine import Engine
from valueprint.settings import Settings
from valueprint.store.models import WiserVote
from valueprint.web.app import create_app

pytestmark = pytest.mark.slow

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("moralgraph"),
        environment="test",
        moralgraph_context_similarity=0.3,  # for the word-overlap stand-in, as in test_moralgraph_product
    )
    app = create_app(settings)
    services = app.state.services
    services.moralgraph.embedder = words
    services.personalizer._engine = Engine(services.model.space, upstream=RecordingUpstream())  # type: ignore[arg-type]
    context = grief_context(services)
    ids = four_values(services, context)
    hostile = services.moralgraph.create_card(
        person(services),
        context,
        "Quiet company" + HOSTILE,
        "Being near without words.",
        [
            "EVENINGS when they do not want to be alone",
            "WALKS where nothing needs to be said",
            "SMALL chores done without being asked",
        ],
    )
    order = [ids["Practical advice"], ids["Honouring the rites"], hostile.canonical.id, ids["Shared laughter"]]
    order.append(ids["Being there"])
    stories_upward(services, order)
    for _ in range(3):
        judge_all(services, person(services), context, order)
    with live_server(app) as url:
        yield url, services


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, served: tuple[str, Any]) -> Iterator[Page]:
    context = browser.new_context(base_url=served[0], viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}") or d.dismiss())
    yield page
    context.close()
    assert problems == [], "the browser reported errors (CSP violations, script errors, dialogs)"


def sign_up(page: Page) -> None:
    page.goto("/")
    page.click("label[for=consent]")
    page.click("#start")
    page.click("#continue")
    expect(page).to_have_url(re.compile("/about-you$"))


def test_a_new_person_writes_a_card_judges_five_transitions_and_sees_the_winner(page: Page, served) -> None:
    _, services = served
    sign_up(page)
    page.goto("/moralgraph")
    page.get_by_role("link", name="when someone is grieving").click()
    page.click("#write-card")
    expect(page.locator("h1")).to_contain_text("when someone is grieving")
    page.fill("#step-moment", "When my uncle died I cooked for my aunt and stayed the evening.")
    page.fill("#card-title-input", "Steady care")
    page.fill("#card-description", "Looking after the grieving person's days, quietly.")
    page.locator("#policy-1").press_sequentially("MOMENTS when they want to talk about who they lost", delay=5)
    suggestion = page.locator("#policy-1-suggestions li").first
    expect(suggestion).to_contain_text("the person they lost")
    expect(page.locator("#policy-1")).to_have_value("MOMENTS when they want to talk about who they lost")
    suggestion.get_by_role("button", name="Use these words").click()  # chosen, visibly
    expect(page.locator("#policy-1")).to_have_value(VALUES["Being there"][1][0])
    expect(page.locator("#policy-1-suggestions")).to_contain_text("Copied from another card")
    page.fill("#policy-2", "MEALS they will not have the energy to cook")
    page.fill("#policy-3", "ERRANDS that pile up in the first weeks")
    page.click("#save-card")
    expect(page).to_have_url(re.compile(r"/moralgraph/mine#card-\d+$"))
    expect(page.locator("#my-cards")).to_contain_text("Steady care")
    expect(page.locator("#my-cards")).to_contain_text("MEALS they will not have the energy to cook")

    page.goto("/moralgraph")
    page.get_by_role("link", name="when someone is grieving").click()
    page.click("#judge")
    for judged in range(1, 6):
        expect(page.locator("h1")).to_have_text("Did this person become wiser?")
        expect(page.locator("main script, main img")).to_have_count(0)  # a card's markup shows as text
        page.check("#answer-yes" if judged % 2 else "#answer-no")
        page.fill("#why", f"judgement {judged}")
        page.click("#submit-vote")
        expect(page.locator(".flash")).to_contain_text(f"You have judged {judged} transition")

    page.goto("/moralgraph")
    page.get_by_role("link", name="when someone is grieving").click()
    expect(page.locator("#winner-name")).to_have_text("Being there")
    expect(page.locator("#mg-graph svg .mg-node")).to_have_count(6)
    expect(page.locator("#mg-graph .mg-winner-node")).to_have_count(1)
    expect(page.locator("#mg-graph svg .mg-edge").first).to_be_attached()
    assert page.evaluate("() => window.__pwned") is None, "a card's text ran as script"

    page.click("#represent")
    expect(page.locator("#winner-name")).to_have_text("Being there")
    page.check("#rep-partly")
    page.fill("#rep-why", "I would add practical help")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#represent-summary")).to_contain_text("0 of 1 answers said yes and 1 partly")

    with services.db.session() as session:
        whys = session.scalars(select(WiserVote.why).where(WiserVote.why.like("judgement %"))).all()
    assert sorted(whys) == [f"judgement {i}" for i in range(1, 6)], "five judgements, each with its why"

    app = services.registry.register_app("Chat app", ["moral"])
    asked = page.request.post(
        "/v1/chat/completions",
        data={"messages": [{"role": "user", "content": "How can I help a friend who is grieving her mother?"}]},
        headers={"Authorization": f"Bearer {app.api_key}"},
    )
    assert asked.ok, asked.text()
    consulted = asked.json()["valueprint"]["notes"]["moral_graph"]
    assert consulted["consulted"] and consulted["used"] == "winning_value"
    assert consulted["context"] == "when someone is grieving" and consulted["value"]["title"] == "Being there"
