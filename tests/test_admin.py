"""Admin dashboard: access, counts on a seeded database, k-suppression, answer-pattern flags, live page, app reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.conftest import live_server
from valueprint.accounts.stats import (
    Respondent,
    Thresholds,
    contradicting_pairs,
    dashboard_stats,
    field_coverage,
    likert_keys,
    speeding,
    straight_lining,
    suppress,
)
from valueprint.store.models import Answer, Participant
from valueprint.values.bank import DemographicField, LikertItem

from .conftest import sign_up

NORMAL_S = 8.0


@pytest.fixture
def admin_client(web_app, services):
    """A second browser, signed in as an admin (CSRF header set)."""
    new = services.accounts.create(role="admin")
    with TestClient(web_app) as browser:
        response = browser.post("/v1/session", json={"resume_code": new.resume_code})
        assert response.status_code == 200, response.text
        browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        browser.admin_id = new.id
        yield browser


def stats_of(admin_client) -> dict:
    response = admin_client.get("/v1/admin/stats")
    assert response.status_code == 200, response.text
    return response.json()


def likert(bank, reverse: bool) -> list[LikertItem]:
    return sorted(
        (i for i in bank.items if isinstance(i, LikertItem) and i.reverse_keyed == reverse), key=lambda i: i.id
    )


def keyed_pairs(bank) -> list[tuple[str, str]]:
    """(forward item, reverse-keyed item) with the same primary dimension, one pair per dimension."""
    reverse = {item.primary: item.id for item in likert(bank, reverse=True)}
    pairs = {item.primary: (item.id, reverse[item.primary]) for item in likert(bank, False) if item.primary in reverse}
    return sorted(pairs.values())


def respond(services, answers: dict[str, object], seconds: float = NORMAL_S) -> str:
    """A new participant who gave these answers, each `seconds` after the previous one."""
    participant_id = services.accounts.create().id
    for item_id, value in answers.items():
        services.accounts.record_answer(participant_id, item_id, value)
    with services.db.session() as session:
        session.execute(update(Answer).where(Answer.participant_id == participant_id).values(seconds=seconds))
    return participant_id


def set_completed(services, participant_id: str, after: timedelta) -> None:
    with services.db.session() as session:
        participant = session.get(Participant, participant_id)
        participant.completed_at = participant.created_at + after


# -- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/admin/stats", "/admin", "/admin/live"])
def test_participants_are_refused(participant_client, path):
    assert participant_client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/v1/admin/stats", "/admin", "/admin/live"])
def test_signed_out_visitors_are_refused(client, path):
    assert client.get(path).status_code == 401


def test_stats_endpoint_is_documented_under_admin(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/v1/admin/stats"]["get"]["tags"] == ["admin"]
    assert "/admin" not in paths and "/admin/live" not in paths


# -- counts -------------------------------------------------------------------------------------


def test_admin_sees_counts_on_a_seeded_database(services, admin_client):
    forward = [item.id for item in likert(services.model.bank, reverse=False)]
    done_fast = respond(services, {forward[0]: 4, forward[1]: 2, forward[2]: None})
    done_slow = respond(services, {forward[0]: 3})
    respond(services, {forward[3]: 5, forward[4]: 1})  # stopped after two answers
    respond(services, {})  # left before the first answer
    set_completed(services, done_fast, timedelta(minutes=10))
    set_completed(services, done_slow, timedelta(minutes=20))
    services.accounts.record_answer(admin_client.admin_id, forward[5], 3)  # admins are not counted

    stats = stats_of(admin_client)

    assert (stats["participants"], stats["completions"], stats["completion_rate"]) == (4, 2, 0.5)
    assert stats["median_completion_s"] == pytest.approx(900, abs=1)
    assert (stats["answers"], stats["skipped"], stats["active_last_hour"]) == (6, 1, 3)
    steps = {step["position"]: step for step in stats["drop_off"]["by_position"]}
    assert [steps[p]["stopped"] for p in range(4)] == [1, 0, 1, 0]
    assert [steps[p]["reached"] for p in range(4)] == [4, 3, 2, 1]
    assert [(i["item_id"], i["count"]) for i in stats["drop_off"]["last_items"]] == [(forward[4], 1)]
    assert stats["k"] == 5


def test_an_empty_database_has_no_rates(admin_client):
    stats = stats_of(admin_client)
    assert stats["participants"] == 0
    assert stats["completion_rate"] is None and stats["median_completion_s"] is None
    assert all(field["hidden"] for field in stats["coverage"])


# -- coverage and suppression ------------------------------------------------------------------------


def test_groups_under_five_are_never_named_and_five_are_shown(services, admin_client):
    people = (
        [{"country": "France", "age_band": "25-34"}] * 5
        + [{"country": "Kenya", "age_band": "18-24"}] * 4
        + [{"country": "Chile"}]
    )
    for demographics in people:
        services.accounts.set_personal(services.accounts.create().id, demographics)

    coverage = {field["field"]: field for field in stats_of(admin_client)["coverage"]}

    country = {g["group"]: g for g in coverage["country"]["groups"]}
    assert country["France"] == {"group": "France", "kind": "value", "count": 5, "suppressed": False}
    assert "Kenya" not in country and "Chile" not in country  # rare free text never appears
    assert country["other answers"]["count"] == 5, "Kenya and Chile pooled: 5 people, the total minus France"
    ages = {g["group"]: g for g in coverage["age_band"]["groups"]}
    assert ages["25-34"]["count"] == 5 and not ages["25-34"]["suppressed"]
    assert "18-24" not in ages, "a choice under k is not named either"
    assert ages["other answers"]["count"] is None and ages["not given"]["count"] is None
    assert coverage["religion"]["groups"] == [
        {"group": "not given", "kind": "not_given", "count": 10, "suppressed": False}
    ]
    page = admin_client.get("/admin/live").text
    assert "Kenya" not in page and "Chile" not in page and "18-24" not in page


def test_one_persons_religion_is_named_neither_on_the_page_nor_in_the_api(services, admin_client):
    religion = next(spec for spec in services.model.bank.demographics if spec.id == "religion")
    common, rare = "Christianity", "Sikhism"
    assert {common, rare} <= set(religion.choices)
    for _ in range(6):
        services.accounts.set_personal(services.accounts.create().id, {"religion": common})
        services.accounts.set_personal(services.accounts.create().id, {"religion": "Islam"})
    services.accounts.set_personal(services.accounts.create().id, {"religion": rare})

    groups = {
        g["group"]: g["count"]
        for f in stats_of(admin_client)["coverage"]
        if f["field"] == "religion"
        for g in f["groups"]
    }
    assert rare not in groups and rare not in admin_client.get("/admin/live").text
    assert groups == {common: 6, "other answers": 7}, "Islam (6) joins the lone one: the pool is not 13 - 12 = 1"
    assert rare not in admin_client.get("/admin").text


def cells(shown: list, k: int = 5) -> tuple[list[int], list[int], list[int]]:
    result = suppress(sorted(shown, key=lambda e: -e[2]), k)
    return [n for *_, n in result.shown], [n for *_, n in result.pooled], [n for *_, n in result.hidden]


def test_no_hidden_count_can_be_worked_out_from_the_total():
    v = lambda n: (f"g{n}", "value", n)  # noqa: E731
    assert cells([v(10), v(7), v(5)]) == ([10, 7, 5], [], []), "nothing under k: nothing hidden"
    assert cells([v(10), v(7), v(3)]) == ([10], [3, 7], []), "a lone 3 takes the smallest shown (7) with it"
    assert cells([v(10), v(3), v(2)]) == ([10], [3, 2], []), "a pool of 5 may show: it is k people"
    assert cells([v(10), v(2), v(1)]) == ([], [2, 1, 10], []), "a pool of 3 is the total minus 10: 10 joins"
    given = ("not given", "not_given", 2)
    assert cells([v(10), v(8), given]) == ([10], [8], [2]), "a hidden 'not given' needs a second hidden row"
    assert cells([v(10), v(1), given]) == ([10], [1], [2]), "two hidden rows: neither can be worked out"
    choice = DemographicField(id="age_band", label="Age", kind="choice", choices=("a", "b", "c"))
    shown = field_coverage(choice, ["a"] * 6 + ["b"] * 5 + ["c"] * 4, 5)
    assert [(g.group, g.count) for g in shown.groups] == [("a", 6), ("other answers", 9)]


def test_coverage_is_hidden_below_k_participants_and_text_is_grouped_case_insensitively():
    text = DemographicField(id="country", label="Country", kind="text")
    assert field_coverage(text, ["France"] * 4, 5).hidden
    grouped = field_coverage(text, ["France", "france ", " FRANCE", "France", "France", "France", *[None] * 5], 5)
    assert [(g.group, g.count, g.kind) for g in grouped.groups] == [
        ("France", 6, "value"),
        ("not given", 5, "not_given"),
    ]


# -- flags -------------------------------------------------------------------------------------


def test_each_flag_fires_on_its_crafted_respondent_and_not_on_a_normal_one(services, admin_client):
    bank = services.model.bank
    forward = [item.id for item in likert(bank, reverse=False)]
    pairs = keyed_pairs(bank)
    straight = respond(services, dict.fromkeys(forward[:12], 4))
    speeder = respond(services, {item_id: 1 + i % 5 for i, item_id in enumerate(forward[:12])}, seconds=1.0)
    contradictor = respond(services, {item_id: 5 for pair in pairs[:3] for item_id in pair})
    normal_answers = {f: 4 for f, _ in pairs[:6]} | {r: 2 for _, r in pairs[:6]}
    normal = respond(services, normal_answers | {pairs[6][0]: 5, pairs[6][1]: 1, pairs[7][0]: 3})

    flags = stats_of(admin_client)["flags"]

    assert flags["straight_lining"] == {"count": 1, "participants": [straight]}
    assert flags["speeding"] == {"count": 1, "participants": [speeder]}
    assert flags["contradictions"] == {"count": 1, "participants": [contradictor]}
    assert normal not in str(flags)


def test_flag_thresholds_are_inclusive_where_the_rules_say_at_least(bank):
    keys, t = likert_keys(bank), Thresholds()
    forward = [item.id for item in likert(bank, reverse=False)]
    nine_of_ten = Respondent()
    for i, item_id in enumerate(forward[:10]):
        nine_of_ten.add(keys, item_id, 2 if i == 0 else 5, 1.9)
    assert straight_lining(nine_of_ten, keys, t) and speeding(nine_of_ten, keys, t)
    nine = Respondent()
    for item_id in forward[:9]:
        nine.add(keys, item_id, 5, 0.5)
    assert not straight_lining(nine, keys, t) and not speeding(nine, keys, t)
    pairs = keyed_pairs(bank)
    assert contradicting_pairs({f: 1 for pair in pairs[:3] for f in pair}, keys) == 3
    assert contradicting_pairs({pairs[0][0]: 5, pairs[0][1]: 1, pairs[1][0]: 3, pairs[1][1]: 3}, keys) == 0


def test_stats_take_seconds_not_minutes_for_many_participants(services):
    """A smoke test of the one-pass design: 300 respondents x 30 answers."""
    import time

    from sqlalchemy import insert

    forward = [item.id for item in likert(services.model.bank, reverse=False)]
    people = [{"id": f"p_bulk{n:05d}", "role": "participant", "secret_hash": "x", "boundaries": []} for n in range(300)]
    rows = [
        {"participant_id": p["id"], "item_id": item_id, "value": 1 + (i + n) % 5, "seconds": 6.0}
        for n, p in enumerate(people)
        for i, item_id in enumerate(forward[:30])
    ]
    with services.db.session() as session:
        session.execute(insert(Participant), people)
        session.execute(insert(Answer), rows)
    started = time.perf_counter()
    stats = dashboard_stats(services.accounts, 5)
    assert stats.answers == 9000 and stats.participants == 300
    assert time.perf_counter() - started < 5


# -- pages ---------------------------------------------------------------------------------------


def test_dashboard_page_polls_the_live_partial(services, admin_client):
    respond(services, {})
    page = admin_client.get("/admin")
    assert page.status_code == 200
    assert 'hx-get="/admin/live"' in page.text and 'hx-trigger="every 5s"' in page.text
    assert 'id="stat-participants">1<' in page.text
    respond(services, {})
    live = admin_client.get("/admin/live", headers={"HX-Request": "true"})
    assert live.status_code == 200
    assert "<html" not in live.text and 'id="stat-participants">2<' in live.text
    for section in ("admin-dropoff", "admin-coverage", "admin-flags", "admin-apps"):
        assert f'id="{section}"' in live.text
    assert "<svg" in live.text and "<caption>" in live.text


# -- app reads ------------------------------------------------------------------------------------


def test_app_reads_and_refusals_are_counted(services, client, web_app, admin_client):
    app = services.registry.register_app("Helpful bot", ["schwartz"])
    idle = services.registry.register_app("Idle bot", ["moral"])
    handles = []
    for consents in (True, False):
        with TestClient(web_app) as browser:
            sign_up(browser)
            item = browser.get("/v1/questionnaire/next").json()["item"]
            value = 3 if item["kind"] == "likert" else {"x": 0, "y": 0} if item["kind"] == "slider" else "A"
            assert browser.put(f"/v1/answers/{item['id']}", json={"value": value}).status_code == 200
            if consents:
                assert browser.put(f"/v1/me/consents/{app.id}", json={"scopes": ["schwartz"]}).status_code == 200
            handles.append(browser.post("/v1/me/token").json()["handle"])
    bearer = {"Authorization": f"Bearer {app.api_key}"}
    assert client.get(f"/v1/tokens/{handles[0]}", headers=bearer).status_code == 200
    assert client.get(f"/v1/tokens/{handles[0]}", headers=bearer).status_code == 200
    assert client.get(f"/v1/tokens/{handles[1]}", headers=bearer).status_code == 404

    apps = {a["app_id"]: a for a in stats_of(admin_client)["apps"]}

    assert (apps[app.id]["name"], apps[app.id]["reads"], apps[app.id]["denied"]) == ("Helpful bot", 2, 1)
    assert apps[app.id]["last_read"] is not None
    assert (apps[idle.id]["reads"], apps[idle.id]["denied"], apps[idle.id]["last_read"]) == (0, 0, None)
    assert "Helpful bot" in admin_client.get("/admin/live").text


# -- a real browser --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_dashboard_updates_itself_in_a_real_browser(tmp_path):
    """Chromium signs in as an admin; a new participant shows up on the open page within one poll."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from pathlib import Path

    from valueprint.settings import Settings
    from valueprint.web.app import create_app

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"chromium is expected at {chromium} (apt-get install chromium)")
    app = create_app(Settings(data_dir=tmp_path / "live", environment="test"))
    services = app.state.services
    admin = services.accounts.create(role="admin")
    with live_server(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=["--headless=new", "--no-sandbox"])
        page = browser.new_page(base_url=url)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto("/resume")
        page.fill("input[name=resume_code]", admin.resume_code)
        page.press("input[name=resume_code]", "Enter")
        page.wait_for_load_state()
        page.goto("/admin")
        sync_api.expect(page.locator("#stat-participants")).to_have_text("0")
        services.accounts.create()
        sync_api.expect(page.locator("#stat-participants")).to_have_text("1", timeout=8_000)
        sync_api.expect(page.get_by_role("table", name="Which country do you live in?")).to_be_visible()
        browser.close()
    assert not [line for line in console if "Content Security Policy" in line]
