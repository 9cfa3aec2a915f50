"""The participant web UI through the in-process client: pages, CSRF, escaping, resume, consent, deletion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from valueprint.settings import Settings
from valueprint.store.models import Profile
from valueprint.values.profile import ValueProfile
from valueprint.web.templating import STATIC_DIR, TEMPLATES_DIR

SCRIPT = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'


@pytest.fixture
def web_settings(tmp_path: Path) -> Settings:
    """A short questionnaire (loose stopping SD) keeps the journeys quick."""
    return Settings(data_dir=tmp_path / "web", environment="test", stop_sd=0.5)


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def start(client: TestClient) -> tuple[str, str]:
    """Consent and start; returns (resume code, csrf token of the new session)."""
    token = csrf(client.get("/").text)
    response = client.post("/start", data={"csrf_token": token, "consent": "yes"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/start/code"
    page = client.get("/start/code")
    code = re.search(r'<code id="resume-code-text">([^<]+)</code>', page.text).group(1)
    return code, csrf(page.text)


def current_item(client: TestClient) -> tuple[str, str] | None:
    """(item id, kind) of the question the page shows, or None when the questionnaire is done."""
    response = client.get("/question", follow_redirects=False)
    if response.status_code == 303:
        assert response.headers["location"] == "/result"
        return None
    match = re.search(r'data-item-id="([^"]+)" data-kind="([^"]+)"', response.text)
    return match.group(1), match.group(2)


def answer_form(kind: str, token: str) -> dict[str, str]:
    values = {"slider": {"x": "0.4", "y": "-0.3"}, "likert": {"value": "4"}, "scenario": {"value": "B"}}
    return {"csrf_token": token, **values[kind]}


def answer_one(client: TestClient, token: str, **headers: str) -> str | None:
    item = current_item(client)
    if item is None:
        return None
    response = client.post(f"/question/{item[0]}", data=answer_form(item[1], token), headers=headers)
    assert response.status_code in (200, 303), response.text
    return item[0]


def finish(client: TestClient, token: str) -> int:
    for count in range(60):
        if answer_one(client, token) is None:
            return count
    raise AssertionError("the questionnaire did not stop")


def test_journey_pages_render(client):
    welcome = client.get("/")
    assert welcome.status_code == 200
    assert '<html lang="en">' in welcome.text and "Skip to content" in welcome.text
    assert 'name="consent"' in welcome.text and "no-store" in welcome.headers["cache-control"]
    assert "script-src 'self'" in welcome.headers["content-security-policy"]
    code, token = start(client)
    assert len(code.split("-")) == 6
    assert client.get("/start/code", follow_redirects=False).status_code == 303, "the resume code is shown once"

    about = client.get("/about-you")
    assert about.status_code == 200 and about.text.count("Prefer not to say") >= 4
    saved = client.post("/about-you", data={"csrf_token": token, "age_band": "25-34"}, follow_redirects=False)
    assert saved.headers["location"] == "/question"

    first = client.get("/question")
    assert 'role="slider"' in first.text and 'name="x"' in first.text, "the political slider comes first"
    assert "Why we ask" in first.text and 'aria-live="polite"' in first.text
    kinds = set()
    while (item := current_item(client)) is not None:
        kinds.add(item[1])
        client.post(f"/question/{item[0]}", data=answer_form(item[1], token))
    assert {"slider", "likert"} <= kinds or {"slider", "scenario"} <= kinds

    result = client.get("/result")
    assert result.status_code == 200
    for marker in ('id="profile-chart"', 'id="compass"', 'id="persona"', 'id="precis-text"', 'id="token-text"'):
        assert marker in result.text
    assert result.text.count('class="chart-row"') == 26
    handle = re.search(r'id="handle-text" readonly value="([a-z-]+)"', result.text).group(1)
    assert len(handle.split("-")) == 4


def test_consent_is_required_to_start(client):
    token = csrf(client.get("/").text)
    response = client.post("/start", data={"csrf_token": token})
    assert response.status_code == 400 and "tick the box" in response.text
    assert client.get("/question", follow_redirects=False).headers["location"] == "/"


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/start", {"consent": "yes"}),
        ("/resume", {"resume_code": "a b c d e f"}),
        ("/about-you", {"country": "x"}),
        ("/question/political-slider", {"x": "0", "y": "0"}),
        ("/refine", {}),
        ("/me/delete", {"confirm": "yes"}),
        ("/signout", {}),
    ],
)
def test_posts_without_csrf_token_are_refused(client, services, path, form):
    start(client)
    response = client.post(path, data=form)
    assert response.status_code == 403
    assert "CSRF" in response.text and "<h1>" in response.text
    wrong = client.post(path, data={**form, "csrf_token": "not-the-token"})
    assert wrong.status_code == 403
    non_ascii = client.post(path, data={**form, "csrf_token": "jetón-ü²"})
    assert non_ascii.status_code == 403


def test_script_typed_into_text_fields_is_rendered_as_text(client):
    _, token = start(client)
    data = {"csrf_token": token, "country": SCRIPT, "language": SCRIPT, "contact": SCRIPT}
    client.post("/about-you", data=data)
    for path in ("/about-you", "/me"):
        page = client.get(path).text
        assert "<script>window" not in page and "<img src=x" not in page
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert client.get("/me").text.count("&lt;script&gt;") == 3


def test_answers_are_saved_and_htmx_gets_partials(client):
    _, token = start(client)
    item_id = answer_one(client, token, **{"HX-Request": "true"})
    assert item_id == "political-slider"
    partial = client.post(
        f"/question/{current_item(client)[0]}",
        data={"csrf_token": token, "skip": "1"},
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200 and "<html" not in partial.text
    assert 'id="question"' in partial.text and 'hx-swap-oob="innerHTML"' in partial.text
    export = client.get("/v1/me/export").json()
    assert [a["item_id"] for a in export["answers"]][:1] == ["political-slider"]
    assert export["answers"][0]["value"] == {"x": 0.4, "y": -0.3} and export["answers"][1]["value"] is None


def test_htmx_answer_that_finishes_redirects_to_result(client):
    _, token = start(client)
    while True:
        item = current_item(client)
        response = client.post(f"/question/{item[0]}", data=answer_form(item[1], token), headers={"HX-Request": "true"})
        if response.headers.get("HX-Redirect"):
            assert response.headers["HX-Redirect"] == "/result"
            break
    assert 'id="token-text"' in client.get("/result").text


def test_missing_answer_is_explained_not_saved(client):
    _, token = start(client)
    client.post("/question/political-slider", data=answer_form("slider", token))
    item = current_item(client)
    response = client.post(f"/question/{item[0]}", data={"csrf_token": token})
    assert response.status_code == 422 and "choose an answer" in response.text
    assert current_item(client) == item
    bad = client.post("/question/political-slider", data={"csrf_token": token, "x": "3", "y": "nope"})
    assert bad.status_code == 422
    superscript = client.post("/question/hd-01", data={"csrf_token": token, "value": "²"})  # a Likert item
    assert superscript.status_code == 422 and current_item(client) == item


def test_resume_code_signs_back_in_and_continues_where_it_stopped(web_app, client):
    code, token = start(client)
    client.post("/about-you", data={"csrf_token": token, "skip": "1"})
    answered = [answer_one(client, token) for _ in range(3)]
    waiting = current_item(client)
    assert waiting is not None and waiting[0] not in answered

    with TestClient(web_app) as other:
        assert other.get("/question", follow_redirects=False).headers["location"] == "/"
        form_token = csrf(other.get("/resume").text)
        wrong = other.post("/resume", data={"csrf_token": form_token, "resume_code": "abandon " * 6})
        assert wrong.status_code == 401 and "resume code" in wrong.text
        typed = "  " + code.replace("-", " ").upper() + " "
        response = other.post("/resume", data={"csrf_token": form_token, "resume_code": typed}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/question"
        assert current_item(other) == waiting
        assert "3 questions so far" in other.get("/question").text


def test_cookie_continues_where_it_stopped(client):
    _, token = start(client)
    welcome = client.get("/")
    assert 'href="/about-you" id="continue"' in welcome.text
    client.post("/about-you", data={"csrf_token": token})
    answer_one(client, token)
    assert 'href="/question" id="continue"' in client.get("/").text


def test_result_refine_boundaries_and_new_token(client):
    _, token = start(client)
    finish(client, token)
    first = client.get("/result").text
    old_token = re.search(r'<textarea id="token-text"[^>]*>([^<]+)</textarea>', first).group(1)
    saved = client.post("/result/boundaries", data={"csrf_token": token, "boundary": ["no-profanity", "no-politics"]})
    assert saved.status_code == 200 and "Boundaries saved" in saved.text
    assert 'value="no-profanity" checked' in saved.text
    assert old_token in saved.text, "saving boundaries keeps the token (reads through valueprint see them at once)"
    assert "Issue a new token to carry the current ones" in saved.text
    refined = client.post("/refine", data={"csrf_token": token}, follow_redirects=False)
    assert refined.headers["location"] in ("/question", "/result")
    assert current_item(client) is not None, "refine asks more where the profile is least certain"


def test_refine_before_finishing_keeps_the_questionnaire_going(client, services):
    code, token = start(client)
    answer_one(client, token)
    waiting = current_item(client)
    client.post("/refine", data={"csrf_token": token})
    participant_id = services.accounts.sign_in(code)
    with services.accounts.db.session() as session:
        assert services.accounts.get(session, participant_id).stop_sd <= services.accounts.stop_sd
    assert current_item(client) == waiting, "an unfinished questionnaire goes on as before"


def test_my_data_consent_per_scope_reads_and_export(client, services):
    app = services.registry.register_app("Helper bot", ["schwartz", "boundaries"], "An assistant")
    code, token = start(client)
    finish(client, token)
    page = client.get("/me").text
    assert "Helper bot" in page and f'id="scope-{app.id}-schwartz"' in page and "Nobody has read" in page
    client.post(f"/me/consents/{app.id}", data={"csrf_token": token, "scope": ["schwartz"]})
    handle = re.search(r'id="handle-text" readonly value="([a-z-]+)"', client.get("/result").text).group(1)
    read = services.registry.read_by_handle(services.registry.authenticate(app.api_key), handle)
    assert set(read["dimensions"]) and read["scopes"] == ["schwartz"]
    page = client.get("/me").text
    assert 'value="schwartz" checked' in page and "looked you up by handle" in page
    client.post(f"/me/consents/{app.id}", data={"csrf_token": token})
    assert services.registry.consents(services.accounts.sign_in(code)) == {}
    assert "not allowed" in client.get("/me").text
    export = client.get("/v1/me/export")
    assert export.status_code == 200 and export.json()["format"] == "valueprint.export/1"
    assert "/v1/me/export" in page


def test_delete_account_removes_the_data(client, services):
    code, token = start(client)
    client.post("/about-you", data={"csrf_token": token, "country": "Norway"})
    answer_one(client, token)
    participant_id = services.accounts.sign_in(code)
    unconfirmed = client.post("/me/delete", data={"csrf_token": token})
    assert unconfirmed.status_code == 400 and services.accounts.exists(participant_id)
    deleted = client.post("/me/delete", data={"csrf_token": token, "confirm": "yes"})
    assert deleted.status_code == 200 and "were deleted" in deleted.text
    assert not services.accounts.exists(participant_id)
    assert client.get("/me", follow_redirects=False).headers["location"] == "/"
    with pytest.raises(Exception, match="resume code"):
        services.accounts.sign_in(code)


def test_assets_are_vendored_with_no_external_urls(client):
    for asset in ("htmx.min.js", "app.js", "app.css"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and len(response.content) > 1000
    files = [*TEMPLATES_DIR.rglob("*.html"), *STATIC_DIR.glob("*.js"), *STATIC_DIR.glob("*.css")]
    for path in files:
        text = path.read_text()
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
    assert "0BSD" in (STATIC_DIR / "VENDORED.md").read_text()


def test_signed_out_pages_send_people_to_the_start(client):
    for path in ("/question", "/result", "/me", "/about-you"):
        assert client.get(path, follow_redirects=False).headers["location"] == "/"
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "<h1>" in missing.text


def test_an_untouched_slider_counts_as_skipped_not_as_centre(participant_client):
    csrf = participant_client.participant["csrf_token"]
    form = {"csrf_token": csrf, "x": "0", "y": "0", "moved": "0"}
    assert participant_client.post("/question/political-slider", data=form, follow_redirects=False).status_code == 303
    assert participant_client.get("/v1/me/answers").json()["answers"] == {"political-slider": None}
    moved = {**form, "x": "0.4", "moved": "1"}
    participant_client.post("/question/political-slider", data=moved, follow_redirects=False)
    assert participant_client.get("/v1/me/answers").json()["answers"] == {"political-slider": {"x": 0.4, "y": 0.0}}


def test_the_centre_button_answers_the_slider_as_centre(participant_client):
    page = participant_client.get("/question").text
    assert 'name="centre"' in page and 'id="centre"' in page
    form = {"csrf_token": participant_client.participant["csrf_token"], "x": "0", "y": "0", "moved": "0", "centre": "1"}
    participant_client.post("/question/political-slider", data=form, follow_redirects=False)
    assert participant_client.get("/v1/me/answers").json()["answers"] == {"political-slider": {"x": 0.0, "y": 0.0}}


def test_statements_and_scenarios_answer_with_one_tap_or_one_key(client):
    _, token = start(client)
    answer_one(client, token)  # the slider
    page = client.get("/question").text
    buttons = re.findall(r'<button type="submit" class="choice[^"]*" id="opt-(\w)"\s+name="value" value="(\w)"', page)
    kind = current_item(client)[1]
    assert buttons == ([(str(n), str(n)) for n in range(1, 6)] if kind == "likert" else buttons) and buttons
    assert 'type="radio"' not in page and 'id="next"' not in page  # no second action to confirm
    assert 'data-key="1"' in page or 'data-key="a 1"' in page  # the number keys (or letters) answer


def test_back_shows_the_previous_answer_and_a_change_re_scores(client, services):
    code, token = start(client)
    first, second = answer_one(client, token), answer_one(client, token)
    waiting = current_item(client)
    assert f'href="/question/{second}" id="back"' in client.get("/question").text

    earlier = client.get(f"/question/{second}").text
    assert 'id="editing"' in earlier and f'href="/question/{first}" id="back"' in earlier
    assert re.search(r'class="choice chosen" id="opt-(4|B)"', earlier), "the earlier answer is shown as chosen"
    slider = client.get(f"/question/{first}").text
    assert 'id="slider-x" value="0.4"' in slider and 'name="moved" value="1"' in slider and 'id="back"' not in slider

    participant_id = services.accounts.sign_in(code)
    before = services.accounts.profile(participant_id)
    kind = services.model.bank.item(second).kind
    changed = client.post(f"/question/{second}", data={"csrf_token": token, "value": "1" if kind == "likert" else "A"})
    assert changed.status_code == 200
    assert services.accounts.answers(participant_id).value_of(second) in (1, "A")
    after = services.accounts.profile(participant_id)
    assert after.scores != before.scores, "the profile is re-scored"
    with services.accounts.db.session() as session:
        stored = ValueProfile.from_json(session.get(Profile, participant_id).profile_json)
    assert stored.scores == after.scores, "and the stored profile (what apps read) with it"
    assert current_item(client) == waiting, "the questionnaire carries on where it was"
    assert services.accounts.previous_item(participant_id) == second, "a change keeps the answer's place"
    assert client.get(f"/question/{waiting[0]}", follow_redirects=False).headers["location"] == "/question"


def test_progress_reaches_100_only_when_the_questionnaire_is_done(client):
    _, token = start(client)
    shown = []
    while (item := current_item(client)) is not None:
        page = client.get("/question").text
        shown.append(int(re.search(r'<progress max="100" value="(\d+)"', page).group(1)))
        client.post(f"/question/{item[0]}", data=answer_form(item[1], token))
    assert shown == sorted(shown) and shown[0] == 0 and shown[-1] < 100
    assert re.search(r"about 1 to go", page)


def test_the_quick_path_gives_a_first_token_then_the_questionnaire_goes_on(tmp_path):
    from valueprint.web.app import create_app

    settings = Settings(data_dir=tmp_path / "quick", environment="test", stop_sd=0.3, quick_token_after=4)
    with TestClient(create_app(settings)) as client:
        _, token = start(client)
        for _ in range(3):
            answer_one(client, token)
        assert 'id="token-text"' not in client.get("/result").text
        item = current_item(client)
        response = client.post(f"/question/{item[0]}", data=answer_form(item[1], token), follow_redirects=False)
        assert response.headers["location"] == "/result"
        result = client.get("/result").text
        assert "Your first token is ready, from 4 answers" in result and 'id="token-text"' in result
        assert 'href="/question"' in result  # carry on to sharpen it
        assert current_item(client) is not None
        item = current_item(client)
        again = client.post(f"/question/{item[0]}", data=answer_form(item[1], token), follow_redirects=False)
        assert again.headers["location"] == "/question", "the first token is issued once"


def test_the_result_page_speaks_plainly_and_folds_the_details_away(client):
    _, token = start(client)
    finish(client, token)
    page = client.get("/result").text
    outside_details = re.sub(r"<details.*?</details>", "", page, flags=re.S)
    for jargon in ("Distance", "distance", "±", " SD", "standard deviation"):
        assert jargon not in outside_details, jargon
    assert not re.search(r"\bp\s*=\s*0?\.\d", outside_details)
    assert re.search(r"That is a (close|partial|loose) match", outside_details)
    assert re.search(r"How sure we are:</strong> sure about \d+ of your 26 values", outside_details)
    for folded in ("profile-details", "political", "try-details", "adapter-details", "boundaries-details"):
        assert re.search(f'<details id="{folded}"(?! open)', page), folded
    assert page.index('id="token"') < page.index('id="profile"'), "the token comes before the details"
