"""The consent page in a real browser: sign in from an app's link, allow, and land back at the app.

Chromium applies the page's CSP `form-action` to the redirect that follows the form, so this
also proves the page lets its form lead to the app's registered address (and nowhere else).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.conftest import live_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from valueprint.settings import Settings
from valueprint.web.app import create_app

pytestmark = pytest.mark.slow

RETURN = "https://tutor.example/back"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("consent"), environment="test"))
    with live_server(app) as url:
        yield url, app.state.services


@pytest.fixture
def page(served) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=served[0], viewport={"width": 375, "height": 800})
        context.set_default_timeout(10_000)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        yield page
        browser.close()
    assert problems == [], "the browser reported errors (a CSP violation blocks the way back to the app)"


def test_a_person_signs_in_from_an_apps_link_allows_it_and_lands_back_at_the_app(page: Page, served):
    _, services = served
    app = services.registry.register_app(
        "Homework Tutor", ["politics"], description="Explains homework.", owner="Tutor Labs Ltd", redirect_uris=[RETURN]
    )
    person = services.accounts.create()
    landed: list[str] = []

    def the_app(route: Route) -> None:
        landed.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>Back at the tutor</h1>")

    page.route(re.compile(r"^https://tutor\.example/"), the_app)
    page.goto(
        "/consent?" + urlencode({"client_id": app.id, "scope": "politics", "redirect_uri": RETURN, "state": "s1"})
    )
    expect(page.locator("#app-owner")).to_have_text("Tutor Labs Ltd")
    page.fill("#resume_code", person.resume_code)
    page.click("#continue")
    expect(page.locator("#scope-list")).to_contain_text("economic and social axes")
    page.click("#grant")
    expect(page.locator("h1")).to_have_text("Back at the tutor")
    back = parse_qs(urlsplit(landed[0]).query)
    assert back["state"] == ["s1"] and back["scope"] == ["politics"] and len(back["handle"][0].split("-")) == 4
