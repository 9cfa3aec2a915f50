"""The participant UI in a real browser (Debian's chromium through Playwright) against a real uvicorn server.

The server runs in a background thread on 127.0.0.1 with a loose stopping SD, so a
journey asks only a handful of questions; whatever comes (slider, Likert, scenario)
is answered. Screenshots of the result page go to benchmarks/results/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import live_server
from valueprint.settings import Settings
from valueprint.web.app import create_app

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "screenshots"
SCRIPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("browser"),
        environment="test",
        stop_sd=0.45,
        model_dir=smollm2_dir,
        chat_max_tokens=24,
    )
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is expected at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, server: str) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server, viewport={"width": 1100, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} at {m.location}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}") or d.dismiss())
    yield page
    assert problems == [], "the browser reported errors (CSP violations, script errors, dialogs)"


# -- helpers -------------------------------------------------------------------------------


def start(page: Page) -> str:
    """Consent and start with the mouse; returns the resume code."""
    page.goto("/")
    page.click("label[for=consent]")
    page.click("#start")
    code = page.locator("#resume-code-text").inner_text()
    page.click("#continue")
    expect(page).to_have_url(re.compile("/about-you$"))
    return code


def slider_value(page: Page) -> tuple[float, float]:
    return float(page.input_value("#slider-x")), float(page.input_value("#slider-y"))


def drag_slider(page: Page, x: float, y: float) -> None:
    box = page.locator("#pad").bounding_box()
    centre_x, centre_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(centre_x, centre_y)
    page.mouse.down()
    page.mouse.move(centre_x + x * box["width"] / 2, centre_y - y * box["height"] / 2, steps=8)
    page.mouse.up()


def wait_past(page: Page, item_id: str) -> bool:
    """Wait until the question `item_id` is gone; True while the questionnaire goes on."""
    expect(page.locator(f'#question[data-item-id="{item_id}"]')).to_have_count(0)
    page.locator("#question, #profile-chart").first.wait_for(state="attached")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    return page.url.endswith("/question")


def answer_with_mouse(page: Page) -> bool:
    """One click answers a statement or scenario; the slider is dragged, then saved."""
    form = page.locator("#question")
    item_id, kind = form.get_attribute("data-item-id"), form.get_attribute("data-kind")
    if kind == "slider":
        drag_slider(page, 0.5, -0.4)
        x, y = slider_value(page)
        assert abs(x - 0.5) < 0.06 and abs(y + 0.4) < 0.06, (x, y)
        page.click("#next")
    else:
        page.click("#opt-4" if kind == "likert" else "#opt-A")
    return wait_past(page, item_id)


def focused(page: Page, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page: Page, selector: str, backwards: bool = False, limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until `selector` has the focus."""
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"could not reach {selector} with the keyboard")


def answer_with_keyboard(page: Page) -> bool:
    """One key answers a statement (1-5) or a scenario (its letter); the slider takes arrows, then Save."""
    form = page.locator("#question")
    item_id, kind = form.get_attribute("data-item-id"), form.get_attribute("data-kind")
    if kind == "slider":
        tab_to(page, "#pad")
        for key in ("ArrowRight", "ArrowRight", "ArrowRight", "Shift+ArrowUp", "ArrowDown"):
            page.keyboard.press(key)
        assert slider_value(page) == (0.3, 0.15)
        assert "Economy: leaning" in page.get_attribute("#pad", "aria-valuetext")
        tab_to(page, "#next")
        page.keyboard.press("Enter")
    else:
        page.keyboard.press("2" if kind == "likert" else "b")
    return wait_past(page, item_id)


def assert_result_page(page: Page) -> None:
    expect(page).to_have_url(re.compile("/result$"))
    expect(page.locator("#profile-chart svg.dim-bar")).to_have_count(26)
    expect(page.locator("#profile-chart rect.sd")).to_have_count(26)
    expect(page.locator("#compass circle.point")).to_be_hidden()  # folded away until asked for
    page.click("#political summary")
    expect(page.locator("#compass circle.point")).to_be_visible()
    assert page.locator("#persona .persona-name").inner_text().strip()
    assert len(page.locator("#precis-text").inner_text().split()) >= 3
    assert page.input_value("#token-text").count(".") == 2
    assert re.fullmatch(r"[a-z]+(-[a-z]+){3}", page.input_value("#handle-text"))


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# -- tests ------------------------------------------------------------------------------------


def test_whole_journey_with_the_mouse(page: Page):
    start(page)
    page.select_option("#f-age_band", "25-34")
    page.click("#save-about")
    expect(page).to_have_url(re.compile("/question$"))
    expect(page.locator("#question")).to_have_attribute("data-kind", "slider")
    expect(page.locator(".why")).to_contain_text("Why we ask")
    kinds = set()
    for _ in range(40):
        kinds.add(page.get_attribute("#question", "data-kind"))
        if not answer_with_mouse(page):
            break
    assert "slider" in kinds and kinds & {"likert", "scenario"}
    assert_result_page(page)

    page.click("#try-details summary")
    page.fill("#try-prompt", "Should I tell my friend a hard truth about her business plan?")
    page.click("#try-button")
    expect(page.locator("#try-personal blockquote")).not_to_be_empty(timeout=120_000)
    expect(page.locator("#try-base blockquote")).not_to_be_empty()
    expect(page.locator("#try-result h3")).to_have_text("Which of your values shaped this")
    expect(page).to_have_url(re.compile("/result$"))  # answered in place, without leaving the page

    page.click("button[data-copy-target=handle-text]")
    expect(page.locator("#token .copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == page.input_value("#handle-text")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "result.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    screens = page.evaluate("document.documentElement.scrollHeight / innerHeight")
    print(f"result page at 375 px: {screens:.1f} screens")
    assert screens <= 5, f"the result page is {screens:.1f} phone screens long (details folded)"
    assert_result_page(page)
    assert no_horizontal_scroll(page), "the result page scrolls sideways at 375 px"
    page.screenshot(path=SCREENSHOTS / "result-phone.png", full_page=True)


def test_journey_by_keyboard_alone(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    assert focused(page, ".skip-link") and page.locator(".skip-link").is_visible()
    tab_to(page, "#consent")
    page.keyboard.press("Space")
    tab_to(page, "#start")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", "focus is visible"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/start/code$"))
    tab_to(page, "button[data-copy-target=resume-code-text]")
    page.keyboard.press("Enter")
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    tab_to(page, "#continue")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/about-you$"))

    tab_to(page, "#f-country")
    page.keyboard.type("Norway")
    tab_to(page, "#save-about")
    tab_to(page, "#f-age_band", backwards=True)
    page.keyboard.press("ArrowDown")
    assert page.input_value("#f-age_band") == "under 18"
    tab_to(page, "#save-about")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/question$"))

    for _ in range(40):
        if not answer_with_keyboard(page):
            break
    assert_result_page(page)

    tab_to(page, "#refine-button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/question$"))
    assert answer_with_keyboard(page) in (True, False)


def test_script_in_text_fields_is_shown_as_text(page: Page):
    start(page)
    for field in ("#f-country", "#f-language", "#f-contact"):
        page.fill(field, SCRIPT)
    page.click("#save-about")
    expect(page).to_have_url(re.compile("/question$"))

    page.goto("/about-you")
    for field in ("#f-country", "#f-language", "#f-contact"):
        assert page.input_value(field) == SCRIPT
    page.goto("/me")
    details = page.locator("#details dd")
    expect(details).to_have_count(3)
    assert details.all_inner_texts() == [SCRIPT] * 3
    assert page.locator("#details img, #details script").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_closing_the_tab_continues_where_it_stopped(page: Page, context: BrowserContext):
    start(page)
    page.click("#skip-about")
    for _ in range(2):
        assert answer_with_mouse(page)
    waiting = page.get_attribute("#question", "data-item-id")
    progress = page.locator("#progress-label").inner_text()
    assert progress.startswith("2 questions so far")
    expect(page).to_have_title(re.compile("^Question 3 "))  # HTMX swaps update the title
    expect(page.locator("#question-title")).to_be_focused()  # and move the focus to the next question
    page.close()

    again = context.new_page()
    again.goto("/")
    again.click("#continue")
    expect(again).to_have_url(re.compile("/question$"))
    assert again.get_attribute("#question", "data-item-id") == waiting
    assert again.locator("#progress-label").inner_text() == progress
    again.close()


def test_resume_code_in_a_new_browser_continues(page: Page, browser: Browser, server: str):
    code = start(page)
    page.click("#skip-about")
    assert answer_with_mouse(page)
    waiting = page.get_attribute("#question", "data-item-id")

    fresh = browser.new_context(base_url=server)
    try:
        other = fresh.new_page()
        other.goto("/question")
        expect(other).to_have_url(re.compile("/$"))
        other.goto("/resume")
        other.fill("#resume_code", code.replace("-", " "))
        other.click("form.card button[type=submit]")
        expect(other).to_have_url(re.compile("/question$"))
        assert other.get_attribute("#question", "data-item-id") == waiting
    finally:
        fresh.close()


def test_api_docs_work_offline(page: Page, server: str):
    outside: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(server)
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page.goto("/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("valueprint")
    assert outside == [], "the docs page asked for something outside this server"


def answers(page: Page) -> dict:
    return page.request.get("/v1/me/answers").json()["answers"]


def test_on_a_phone_one_tap_places_the_slider_where_it_lands(browser: Browser, server: str):
    phone = browser.new_context(base_url=server, viewport={"width": 375, "height": 667}, has_touch=True, is_mobile=True)
    try:
        page = phone.new_page()
        start(page)
        page.click("#skip-about")
        expect(page.locator("#question")).to_have_attribute("data-kind", "slider")
        # Scroll so that the map is only partly on screen: a tap on its visible part must not scroll the page.
        page.evaluate(
            "y => window.scrollTo(0, y)",
            page.evaluate(
                "() => document.getElementById('pad').getBoundingClientRect().top + window.scrollY - innerHeight + 120"
            ),
        )
        box = page.locator("#pad").bounding_box()
        scrolled = page.evaluate("window.scrollY")
        assert box["y"] + box["height"] > 667, "the map runs past the bottom of the screen"
        tap_x, tap_y = box["x"] + box["width"] * 0.8, box["y"] + 60
        page.touchscreen.tap(tap_x, tap_y)
        x, y = slider_value(page)
        assert abs(x - 0.6) < 0.05 and abs(y - (1 - 2 * 60 / box["height"])) < 0.05, (x, y)
        assert page.evaluate("window.scrollY") == scrolled, "the tap scrolled the page"
        assert no_horizontal_scroll(page)
        page.click("#next")
        wait_past(page, "political-slider")
        assert answers(page)["political-slider"] == {"x": x, "y": y}
    finally:
        phone.close()


def test_centre_keys_and_back(page: Page):
    start(page)
    page.click("#skip-about")
    page.click("#centre")
    assert wait_past(page, "political-slider")
    assert answers(page)["political-slider"] == {"x": 0.0, "y": 0.0}

    first = page.get_attribute("#question", "data-item-id")
    kind = page.get_attribute("#question", "data-kind")
    page.keyboard.press("2" if kind == "likert" else "b")
    assert wait_past(page, first)
    assert answers(page)[first] == (2 if kind == "likert" else "B")

    page.click("#back")
    expect(page).to_have_url(re.compile(f"/question/{first}$"))
    expect(page.locator("#editing")).to_be_visible()
    expect(page.locator("#question .choice.chosen")).to_have_count(1)
    page.keyboard.press("5" if kind == "likert" else "a")
    expect(page).to_have_url(re.compile("/question$"))
    assert answers(page)[first] == (5 if kind == "likert" else "A")
    assert page.get_attribute("#question", "data-item-id") not in (first, "political-slider")
