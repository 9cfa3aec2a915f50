"""The annotate page in a real browser (Debian's chromium through Playwright) against a real uvicorn server.

The server's annotation domain is the test one (`annotate_factories.annotate_for`): the e-mail-only
sanitiser double (the real sanitiser lives on another branch) and a settable clock, so a reservation
runs out when the test says so. Also writes benchmarks/results/annotate_actions.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright

from tests.annotate_actions import KeyboardAnnotator, summary, write_actions
from tests.annotate_factories import Clock, annotate_for, annotator_account, posts
from tests.conftest import live_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from valueprint.accounts.roles import Role
from valueprint.annotate.readers import Fields
from valueprint.settings import Settings
from valueprint.web.app import create_app

pytestmark = pytest.mark.slow

RESERVATION_S = 600
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
DIMS = ["care", "fairness"]


class Served:
    def __init__(self, url: str, services: Any, clock: Clock) -> None:
        self.url, self.services, self.clock = url, services, clock
        self.annotate = services.annotate

    def project(self, texts: list[str], **fields: Any) -> str:
        spec = {"name": f"Project {len(self.annotate.projects())}", "segmentation": "posts"} | fields
        pid = self.annotate.create_project(None, spec).id
        if texts:
            self.annotate.import_items(pid, posts(texts), Fields(), "browser test")
        return pid


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app with the test annotation domain injected into its services (nothing fake in product code)."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("annotate"), environment="test"))
    clock = Clock()
    annotate_for(app.state.services, clock, reservation_s=RESERVATION_S)
    with live_server(app) as url:
        yield Served(url, app.state.services, clock)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is expected at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page with every console error, page error and dialog recorded (a fired alert() is a dialog)."""

    def __init__(self, context: BrowserContext) -> None:
        self.page = context.new_page()
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("dialog", lambda d: self.dialogs.append(d.message) or d.dismiss())


@pytest.fixture
def open_page(browser: Browser, served: Served) -> Iterator[Any]:
    """Opens a page in a fresh browser context (its own cookies) signed in as a new annotator."""
    opened: list[tuple[BrowserContext, Watched]] = []

    def open_as(account: Any = None, width: int = 1100) -> Page:
        context = browser.new_context(base_url=served.url, viewport={"width": width, "height": 900})
        context.set_default_timeout(10_000)
        watched = Watched(context)
        opened.append((context, watched))
        sign_in(watched.page, account or annotator_account(served.services))
        return watched.page

    yield open_as
    for context, watched in opened:
        context.close()
        assert watched.dialogs == [], "a dialog opened: some text ran as script"
        assert watched.problems == [], "the browser reported errors (CSP violations, script errors)"


def sign_in(page: Page, account: Any) -> None:
    page.goto("/resume")
    page.fill("#resume_code", account.resume_code)
    page.press("#resume_code", "Enter")
    page.wait_for_load_state()
    expect(page).not_to_have_url(re.compile("/resume$"))


def unit_of(page: Page) -> str:
    return page.get_attribute("#unit", "data-unit-id") or ""


def next_unit(page: Page, before: str) -> str:
    expect(page.locator("#unit")).not_to_have_attribute("data-unit-id", before)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    expect(page.locator("#unit-heading")).to_be_focused()  # focus moved to the new unit: keys go on from there
    return unit_of(page)


def labels_in_export(served: Served, pid: str) -> dict[int, list[dict[str, Any]]]:
    return {line["unit_id"]: line["annotations"] for line in map(json.loads, served.annotate.export_jsonl(pid))}


# -- keyboard only ---------------------------------------------------------------------------------


def test_an_annotator_labels_several_units_with_the_keyboard_only(open_page, served: Served) -> None:
    texts = ["He shared his lunch.", "She lied to her boss.", "They stole a bike.", "He helped a stranger."]
    pid = served.project(texts, label_schema={"dimensions": DIMS}, instructions="Label each post.")
    page = open_page()
    page.goto(f"/annotate/{pid}")
    expect(page.locator("#key-help")).to_contain_text("S skip")
    expect(page.locator("#unit-heading")).to_be_focused()  # keys work at once
    first = unit_of(page)

    page.keyboard.press("5")  # clearly good
    page.keyboard.press("Tab")  # care's row
    page.keyboard.press("ArrowRight")  # care: upholds
    page.keyboard.press("w")
    page.keyboard.type("kind to a friend")
    page.keyboard.press("Enter")
    second = next_unit(page, first)
    expect(page.locator("#annotate-status")).to_have_text("Saved. Here is the next unit.")
    expect(page.locator("#unit-heading")).to_be_focused()

    page.keyboard.press("s")  # skip
    third = next_unit(page, second)
    expect(page.locator("#annotate-status")).to_contain_text("Skipped")
    page.keyboard.press("u")  # back: the skipped unit again
    assert next_unit(page, third) == second
    expect(page.locator("#annotate-status")).to_have_text("Back: your skip was undone; label this unit.")

    page.keyboard.press("1")  # clearly wrong
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # fairness's row
    page.keyboard.press("ArrowLeft")  # fairness: violates
    page.keyboard.press("Enter")
    fourth = next_unit(page, second)
    for _ in range(2):
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        fourth = next_unit(page, fourth)
    expect(page.locator("#nothing-left")).to_be_visible()

    exported = labels_in_export(served, pid)
    got = {unit: [(a["acceptability"], a["values"], a["why"]) for a in given] for unit, given in exported.items()}
    assert got[int(first)] == [(4, {"care": 1}, "kind to a friend")]
    assert got[int(second)] == [(0, {"fairness": -1}, None)]
    assert sorted(len(given) for given in got.values()) == [1, 1, 1, 1]


def test_v_goes_to_the_values_and_the_arrows_stop_at_either_end(open_page, served: Served) -> None:
    pid = served.project(["He shared his lunch."], label_schema={"dimensions": DIMS})
    page = open_page()
    page.goto(f"/annotate/{pid}")
    expect(page.locator("#key-help")).to_be_visible()
    expect(page.locator("#key-help")).to_contain_text("V values: ← → set one, Tab the next")
    focused = "() => document.activeElement.id"
    page.keyboard.press("v")
    assert page.evaluate(focused) == "value-care-none"
    for _ in range(2):  # the second press stays on "− violates": it does not wrap round to "+ upholds"
        page.keyboard.press("ArrowLeft")
        assert page.evaluate(focused) == "value-care-minus"
    expect(page.locator("#value-care-minus")).to_be_checked()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#value-care-plus")).to_be_checked()
    assert page.evaluate(focused) == "value-care-plus"
    page.keyboard.press("Tab")  # the next value
    assert page.evaluate(focused) == "value-fairness-none"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    next_unit(page, "")
    assert [a["values"] for a in next(iter(labels_in_export(served, pid).values()))] == [{"care": 1, "fairness": 1}]


def test_undo_brings_back_the_annotators_own_label_and_enter_keeps_it(open_page, served: Served) -> None:
    pid = served.project(["He shared his lunch.", "She lied."], label_schema={"dimensions": DIMS})
    page = open_page()
    page.goto(f"/annotate/{pid}")
    first = unit_of(page)
    page.keyboard.press("4")
    page.keyboard.press("w")
    page.keyboard.type("generous")
    page.keyboard.press("Enter")
    second = next_unit(page, first)
    page.keyboard.press("u")
    assert next_unit(page, second) == first
    expect(page.locator("#acceptability-3")).to_be_checked()
    expect(page.locator("#why")).to_have_value("generous")
    page.keyboard.press("Enter")
    next_unit(page, first)
    assert [(a["acceptability"], a["why"]) for a in labels_in_export(served, pid)[int(first)]] == [(3, "generous")]


# -- reservations --------------------------------------------------------------------------------------


def test_a_reserved_unit_returns_to_the_queue_for_another_annotator_after_the_reservation_time(
    open_page, served: Served
) -> None:
    pid = served.project(["Only one unit here."])
    ann, ben = open_page(), open_page()
    ann.goto(f"/annotate/{pid}")
    held = unit_of(ann)
    ben.goto(f"/annotate/{pid}")
    expect(ben.locator("#nothing-left")).to_be_visible()  # reserved for Ann

    served.clock.advance(RESERVATION_S + 1)
    ben.keyboard.press("Tab")  # from the page: Look again is a link, reached by keyboard too
    ben.click("#look-again")
    expect(ben.locator("#unit-text")).to_have_text("Only one unit here.")
    assert unit_of(ben) == held

    ann.keyboard.press("4")
    ann.keyboard.press("Enter")  # too late: Ben has it now
    expect(ann.locator("#annotate-status")).to_contain_text("Not saved: your reservation of this unit expired")
    expect(ann.locator("#nothing-left")).to_be_visible()
    ben.keyboard.press("4")
    ben.keyboard.press("Enter")
    expect(ben.locator("#annotate-status")).to_have_text("Saved. Here is the next unit.")
    assert [len(given) for given in labels_in_export(served, pid).values()] == [1]


# -- leaked personal data ------------------------------------------------------------------------------------


def test_the_leaked_data_flag_hides_the_unit_at_once(open_page, served: Served) -> None:
    pid = served.project(["Call Maria Lopez tonight.", "Another post."], overlap=2)
    page = open_page()
    page.goto(f"/annotate/{pid}")
    expect(page.locator("#unit-text")).to_have_text("Call Maria Lopez tonight.")
    flagged = unit_of(page)
    held: list[Route] = []
    page.route(re.compile(r"/flag$"), lambda route: held.append(route))  # the server answers only later

    page.fill("#flag-reason", "a full name")
    page.click("#flag")
    expect(page.locator("#unit-text")).to_be_hidden()  # before the server has answered
    expect(page.locator("#annotate-status")).to_contain_text("Hidden")
    assert len(held) == 1
    held[0].continue_()
    expect(page.locator("#annotate-status")).to_contain_text("hidden from everyone until a curator")
    expect(page.locator("#unit-text")).to_have_text("Another post.")
    assert [u.unit_id for u in served.annotate.flagged(pid)] == [int(flagged)]

    other = open_page()
    other.goto(f"/annotate/{pid}")
    expect(other.locator("#unit-text")).to_have_text("Another post.")  # never the flagged one

    curator = open_page(served.services.accounts.create(role=Role.CURATOR))
    curator.goto(f"/annotate/{pid}/flagged")
    card = curator.locator(f"#flagged-{flagged}")
    expect(card.locator(".raw")).to_have_text("Call Maria Lopez tonight.")
    expect(card.locator(".reasons")).to_have_text("a full name")
    curator.fill(f"#fix-{flagged}", "Call [PERSON] tonight.")
    curator.click(f"#fix-button-{flagged}")
    expect(curator.locator("#no-flagged")).to_be_visible()
    assert served.annotate.flagged(pid) == []


# -- hostile text ---------------------------------------------------------------------------------------------


def test_hostile_text_stays_inert_and_literal_in_every_rendered_field(open_page, served: Served) -> None:
    pid = served.annotate.create_project(
        None,
        {
            "name": f"Name {HOSTILE}",
            "instructions": f"Read {HOSTILE}",
            "segmentation": "posts",
            "label_schema": {"dimensions": ["care"], "custom_labels": [f"Label {HOSTILE}"]},
        },
    ).id
    why = [{"from_name": "why", "to_name": "text", "type": "textarea", "value": {"text": [f"Why {HOSTILE}"]}}]
    task = {
        "data": {"text": f"Unit {HOSTILE}", "licence": "MIT"},
        "predictions": [{"model_version": "m", "result": why}],
    }
    served.annotate.import_labelstudio(pid, [task], Fields(), "tasks.json")
    page = open_page()
    page.goto("/annotate")
    expect(page.locator(".project-name", has_text="Name <script>")).to_have_text(f"Name {HOSTILE}")
    page.goto(f"/annotate/{pid}")
    expect(page.locator("#project-name")).to_have_text(f"Name {HOSTILE}")
    expect(page.locator("#instructions")).to_have_text(f"Read {HOSTILE}")
    expect(page.locator("#unit-text")).to_have_text(f"Unit {HOSTILE}")
    expect(page.locator(".custom-label")).to_have_text(f"Label {HOSTILE}")
    expect(page.locator("#suggested-why")).to_have_text(f"Why {HOSTILE}")
    expect(page.locator("#why")).to_have_value(f"Why {HOSTILE}")
    expect(page).to_have_title(re.compile(re.escape(f"Name {HOSTILE}")))
    assert page.locator("#main script, #main img").count() == 0  # none of it became an element

    page.fill("#flag-reason", f"Reason {HOSTILE}")
    page.press("#flag-reason", "Enter")
    expect(page.locator("#nothing-left")).to_be_visible()
    curator = open_page(served.services.accounts.create(role=Role.CURATOR))
    curator.goto(f"/annotate/{pid}/flagged")
    expect(curator.locator(".reasons")).to_have_text(f"Reason {HOSTILE}")
    expect(curator.locator(".raw")).to_have_text(f"Unit {HOSTILE}")
    assert curator.locator("#main script, #main img").count() == 0
    # the fixture asserts that no dialog opened and the browser reported no error


# -- a phone --------------------------------------------------------------------------------------------


def test_the_page_fits_a_375px_phone_with_44px_tap_targets(open_page, served: Served) -> None:
    long_word = "Unbroken" * 30
    pid = served.project(
        [f"A very long post with {long_word} in it."],
        label_schema={"dimensions": DIMS, "custom_labels": ["sarcasm"]},
        instructions="Read carefully. " * 20,
    )
    page = open_page(width=375)
    for path in ("/annotate", f"/annotate/{pid}"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                 '#main button, #main a, #main .seg > span, #main textarea, #main input[type=text], #main summary')]
               .filter((el) => el.offsetParent !== null)
               .map((el) => [el.id || el.textContent.trim().slice(0, 30), el.getBoundingClientRect()])
               .filter(([, box]) => box.width < 44 || box.height < 44)
               .map(([name, box]) => `${name}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""
        )
        assert small == [], f"{path}: tap targets under 44 px: {small}"
    hints = "#key-help, #save kbd, #skip kbd, .seg .key, .key-hint"
    assert page.evaluate(f"[...document.querySelectorAll('{hints}')].every((el) => el.offsetParent === null)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "annotate_375.png", full_page=True)
    page.click("label:has(#acceptability-4)")
    page.click("label:has(#value-care-plus)")
    page.click("#save")
    expect(page.locator("#annotate-status")).to_have_text("Saved. Here is the next unit.")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_key_badges_stay_whole_and_apart_from_their_words_where_hints_show(open_page, served: Served) -> None:
    pid = served.project(["He shared his lunch."], label_schema={"dimensions": DIMS})
    page = open_page(width=520)  # narrow, but a keyboard and mouse: hints show
    page.goto(f"/annotate/{pid}")
    expect(page.locator("#key-help")).to_be_visible()
    enter, s_key = page.locator("#save kbd").bounding_box(), page.locator("#skip kbd").bounding_box()
    assert enter["height"] <= s_key["height"] + 1  # "Enter" on one line, as tall as "S"
    gap = page.evaluate(
        """() => { const skip = document.getElementById("skip"); const range = document.createRange();
             range.selectNodeContents(skip.firstChild);
             return skip.querySelector("kbd").getBoundingClientRect().left - range.getBoundingClientRect().right; }"""
    )
    assert gap >= 4, f"the S badge is glued to 'Skip' ({gap:.1f} px)"


# -- the benchmark: actions per unit ----------------------------------------------------------------------


def test_annotator_actions_per_unit_with_and_without_pre_labels(open_page, served: Served) -> None:
    """The same eight units and wanted labels, once with suggestions (five right, two with the wrong
    acceptability, one with a wrong value) and once without; writes benchmarks/results/annotate_actions.json."""
    wanted = [
        (0, {"care": -1}),
        (4, {"care": 1}),
        (1, {"fairness": -1}),
        (3, {"care": 1, "fairness": 1}),
        (2, {}),
        (0, {"care": -1, "fairness": -1}),
        (4, {"fairness": 1}),
        (1, {"care": -1}),
    ]
    suggested = list(wanted)
    suggested[1] = (3, {"care": 1})
    suggested[4] = (1, {})
    suggested[6] = (4, {"fairness": 1, "care": 1})
    texts = [f"Behaviour number {i}: someone did thing {i * 7919}." for i in range(len(wanted))]
    schema = {"dimensions": DIMS}
    plain = served.project(texts, label_schema=schema)
    pre = served.annotate.create_project(
        None, {"name": "With pre-labels", "segmentation": "posts", "label_schema": schema}
    ).id
    tasks = [
        {
            "data": {"text": text, "licence": "MIT"},
            "predictions": [{"model_version": "scripted", "score": 0.9, "result": result(a, v)}],
        }
        for text, (a, v) in zip(texts, suggested, strict=True)
    ]
    served.annotate.import_labelstudio(pre, tasks, Fields(), "tasks.json")

    counts: dict[str, list[int]] = {}
    for name, pid in (("with", pre), ("without", plain)):
        page = open_page()
        page.goto(f"/annotate/{pid}")
        annotator = KeyboardAnnotator(page)
        by_text = dict(zip(texts, wanted, strict=True))
        counts[name] = [annotator.label(*by_text[page.inner_text("#unit-text")]) for _ in wanted]
        for text, (acceptability, values) in by_text.items():
            given = [
                a
                for line in map(json.loads, served.annotate.export_jsonl(pid))
                if line["text"] == text
                for a in line["annotations"]
            ]
            assert [(a["acceptability"], a["values"]) for a in given] == [(acceptability, values)]

    unchanged = sum(s == w for s, w in zip(suggested, wanted, strict=True))
    path = write_actions(summary(counts["with"], unchanged), summary(counts["without"]))
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["with_prelabels"]["actions_per_unit"] < written["without_prelabels"]["actions_per_unit"]
    assert min(counts["with"]) == 1  # a right suggestion: Enter alone


def result(acceptability: int, values: dict[str, int]) -> list[dict[str, Any]]:
    scale = ("clearly wrong", "somewhat wrong", "neutral", "somewhat good", "clearly good")
    found = [
        {
            "from_name": "acceptability",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [scale[acceptability]]},
        }
    ]
    if values:
        choices = [f"{dim}:{'+' if d == 1 else '-'}" for dim, d in values.items()]
        found.append({"from_name": "values", "to_name": "text", "type": "choices", "value": {"choices": choices}})
    return found
