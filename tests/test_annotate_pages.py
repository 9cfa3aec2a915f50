"""The annotate pages without a browser: what a person gets from each route (TestClient), as specifications.

The sanitiser is the test double of `annotate_factories` (the real one lives on another branch);
forms carry the session's CSRF token in the `X-CSRF-Token` header, as HTMX sends it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from tests.annotate_factories import Clock, annotate_for, annotator_account, posts
from valueprint.accounts.roles import Role
from valueprint.annotate.readers import Fields

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
HTMX = {"HX-Request": "true"}


def signed_in(web_app, account) -> TestClient:
    browser = TestClient(web_app)
    response = browser.post("/v1/session", json={"resume_code": account.resume_code})
    assert response.status_code == 200, response.text
    browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return browser


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def annotate(services, clock):
    return annotate_for(services, clock, reservation_s=600)


@pytest.fixture
def person(web_app, services, annotate) -> Iterator[TestClient]:
    """A signed-in annotator with a value profile."""
    with signed_in(web_app, annotator_account(services)) as browser:
        yield browser


@pytest.fixture
def curator(web_app, services, annotate) -> Iterator[TestClient]:
    with signed_in(web_app, services.accounts.create(role=Role.CURATOR)) as browser:
        yield browser


def corpus(annotate, texts: list[str], **fields) -> str:
    spec = {"name": "Kindness", "segmentation": "posts", "instructions": "Label what each post shows."} | fields
    pid = annotate.create_project(None, spec).id
    annotate.import_items(pid, posts(texts), Fields(), "test")
    return pid


def unit_id(page: str) -> int:
    return int(re.search(r'data-unit-id="(\d+)"', page).group(1))


def shown_text(page: str) -> str:
    return unescape(re.search(r'<blockquote id="unit-text"[^>]*>(.*?)</blockquote>', page, re.S).group(1))


def status_line(page: str) -> str:
    return unescape(re.search(r'<p id="annotate-status"[^>]*>(.*?)</p>', page, re.S).group(1)).strip()


# -- who gets the page ---------------------------------------------------------------------------


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_welcome_page(client, annotate) -> None:
    pid = corpus(annotate, ["A post."])
    for path in ("/annotate", f"/annotate/{pid}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/"


def test_a_person_without_a_value_profile_is_sent_to_the_questionnaire_with_the_reason(
    web_app, services, annotate
) -> None:
    pid = corpus(annotate, ["A post."])
    with signed_in(web_app, services.accounts.create()) as newcomer:
        response = newcomer.get(f"/annotate/{pid}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/question"
        page = newcomer.get("/question").text
    assert "Before you annotate, tell us your own values" in page and "answer at least" in page


def test_the_project_list_links_each_project_and_curators_also_see_the_flagged_units(annotate, person, curator) -> None:
    pid = corpus(annotate, ["A post."])
    page = person.get("/annotate").text
    assert f'href="/annotate/{pid}"' in page and f"/annotate/{pid}/flagged" not in page
    assert f'href="/annotate/{pid}/flagged"' in curator.get("/annotate").text


# -- one unit at a time ----------------------------------------------------------------------------


def test_the_page_shows_the_instructions_the_sanitised_unit_the_scale_the_values_and_the_keys(annotate, person) -> None:
    pid = corpus(annotate, ["Write to ann@example.org, she shared her lunch."], label_schema={"dimensions": ["care"]})
    page = person.get(f"/annotate/{pid}").text
    assert "Label what each post shows." in page
    assert shown_text(page) == "Write to [EMAIL], she shared her lunch."  # never the address
    assert "ann@example.org" not in page
    for word in ("clearly wrong", "somewhat wrong", "neutral", "somewhat good", "clearly good"):
        assert word in page
    assert 'name="value-care" value="-1"' in page and 'name="value-care" value="1"' in page
    assert 'name="value-fairness"' not in page  # only the project's dimensions
    assert all(key in page for key in ("<kbd>Enter</kbd>", "<kbd>S</kbd>", "<kbd>U</kbd>", "<kbd>1</kbd>"))
    assert 'role="status" aria-live="polite"' in page and '<label for="why">' in page


def test_saving_labels_stores_them_with_the_profile_snapshot_and_htmx_gets_the_next_unit(
    services, annotate, person
) -> None:
    pid = corpus(annotate, ["He shared his lunch.", "She lied to her boss."], label_schema={"dimensions": ["care"]})
    first = unit_id(person.get(f"/annotate/{pid}").text)
    form = {"acceptability": "4", "value-care": "1", "why": " kind ", "custom": []}
    answer = person.post(f"/annotate/{pid}/units/{first}", data=form, headers=HTMX)
    assert answer.status_code == 200
    assert answer.text.startswith('<section id="unit"') and unit_id(answer.text) != first
    assert 'hx-swap-oob="innerHTML">Saved. Here is the next unit.</p>' in answer.text
    exported = [json.loads(line) for line in annotate.export_jsonl(pid)]
    (label,) = [a for line in exported for a in line["annotations"]]
    assert (label["values"], label["acceptability"], label["why"]) == ({"care": 1}, 4, "kind")
    assert label["profile"]["answered"] >= services.settings.quick_token_after


def test_without_htmx_a_form_is_answered_with_a_redirect_and_the_status_on_the_page(annotate, person) -> None:
    pid = corpus(annotate, ["He shared his lunch.", "She lied to her boss."])
    first = unit_id(person.get(f"/annotate/{pid}").text)
    response = person.post(f"/annotate/{pid}/units/{first}", data={"acceptability": "0"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/annotate/{pid}"
    page = person.get(f"/annotate/{pid}").text
    assert status_line(page) == "Saved. Here is the next unit." and unit_id(page) != first


def test_labels_that_do_not_fit_are_refused_with_the_reason_and_the_form_kept(annotate, person) -> None:
    pid = corpus(annotate, ["He shared his lunch."])
    unit = unit_id(person.get(f"/annotate/{pid}").text)
    answer = person.post(f"/annotate/{pid}/units/{unit}", data={"acceptability": "9", "why": "mine"}, headers=HTMX)
    assert answer.status_code == 422 and "acceptability must be an index 0-4" in unescape(answer.text)
    assert unit_id(answer.text) == unit and ">mine</textarea>" in answer.text


def test_a_pre_label_is_filled_in_as_the_suggestion_to_accept_with_enter(annotate, person) -> None:
    pid = annotate.create_project(
        None, {"name": "Pre", "segmentation": "posts", "label_schema": {"dimensions": ["care", "fairness"]}}
    ).id
    result = [
        {"from_name": "values", "to_name": "text", "type": "choices", "value": {"choices": ["care:-"]}},
        {"from_name": "acceptability", "to_name": "text", "type": "choices", "value": {"choices": ["clearly wrong"]}},
    ]
    task = {
        "data": {"text": "He hit the dog.", "licence": "MIT"},
        "predictions": [{"model_version": "judge-7", "score": 0.83, "result": result}],
    }
    annotate.import_labelstudio(pid, [task], Fields(), "tasks.json")
    page = person.get(f"/annotate/{pid}").text
    assert "judge-7" in page and "83% sure" in page
    assert re.search(r'value="0" id="acceptability-0"\s+checked', page)
    assert re.search(r'id="value-care-minus"\s+checked', page) and re.search(
        r'id="value-fairness-none"\s+checked', page
    )


def test_skip_then_undo_brings_the_skipped_unit_back(annotate, person) -> None:
    pid = corpus(annotate, ["He shared his lunch.", "She lied to her boss."])
    first = unit_id(person.get(f"/annotate/{pid}").text)
    skipped = person.post(f"/annotate/{pid}/units/{first}/skip", headers=HTMX)
    assert unit_id(skipped.text) != first and "Skipped." in skipped.text
    back = person.post(f"/annotate/{pid}/undo", headers=HTMX)
    assert unit_id(back.text) == first and status_line(back.text) == "Back: your skip was undone; label this unit."
    person.post(f"/annotate/{pid}/undo", headers=HTMX)
    nothing = person.post(f"/annotate/{pid}/undo", headers=HTMX)
    assert "Nothing undone: nothing to undo" in unescape(nothing.text)


def test_a_late_label_on_a_unit_someone_else_took_says_so_and_shows_what_is_next(
    web_app, services, annotate, clock, person
) -> None:
    pid = corpus(annotate, ["He shared his lunch."])
    held = unit_id(person.get(f"/annotate/{pid}").text)
    with signed_in(web_app, annotator_account(services)) as other:
        assert "Nothing left for you here right now" in other.get(f"/annotate/{pid}").text
        clock.advance(601)
        assert unit_id(other.get(f"/annotate/{pid}").text) == held  # back in the queue, for someone else
    late = person.post(f"/annotate/{pid}/units/{held}", data={"acceptability": "2"}, headers=HTMX)
    assert late.status_code == 200 and "Not saved: your reservation of this unit expired" in unescape(late.text)


def test_forms_without_the_sessions_csrf_token_are_refused(annotate, person) -> None:
    pid = corpus(annotate, ["He shared his lunch."])
    unit = unit_id(person.get(f"/annotate/{pid}").text)
    for path in (f"/units/{unit}", f"/units/{unit}/skip", f"/units/{unit}/flag", "/undo"):
        refused = person.post(f"/annotate/{pid}{path}", data={"acceptability": "1"}, headers={"X-CSRF-Token": "wrong"})
        assert refused.status_code == 403, path
    token = person.headers.pop("X-CSRF-Token")
    form = {"acceptability": "1", "csrf_token": token}  # a plain form carries it as a field
    assert person.post(f"/annotate/{pid}/units/{unit}", data=form, follow_redirects=False).status_code == 303


# -- leaked personal data ------------------------------------------------------------------------------


def test_the_flag_hides_the_unit_from_everyone_until_a_curator_fixes_it(
    web_app, services, annotate, person, curator
) -> None:
    pid = corpus(annotate, ["Call Maria Lopez on her mobile."])
    unit = unit_id(person.get(f"/annotate/{pid}").text)
    flagged = person.post(f"/annotate/{pid}/units/{unit}/flag", data={"reason": "a full name"}, headers=HTMX)
    assert "Nothing left for you here right now" in flagged.text and "hidden from everyone" in flagged.text
    with signed_in(web_app, annotator_account(services)) as other:
        assert "Maria" not in other.get(f"/annotate/{pid}").text
    assert person.get(f"/annotate/{pid}/flagged").status_code == 403  # curators only
    page = curator.get(f"/annotate/{pid}/flagged").text
    assert "Call Maria Lopez on her mobile." in page and "a full name" in page
    fixed = curator.post(f"/annotate/{pid}/flagged/{unit}", data={"text": "Call [PERSON] on her mobile."})
    assert fixed.status_code == 200 and "No unit is waiting for a fix." in fixed.text
    with signed_in(web_app, annotator_account(services)) as other:
        assert shown_text(other.get(f"/annotate/{pid}").text) == "Call [PERSON] on her mobile."


# -- hostile text -----------------------------------------------------------------------------------------


def test_hostile_text_is_escaped_in_every_field_it_appears_in(services, annotate, person, curator) -> None:
    pid = annotate.create_project(
        None,
        {
            "name": f"Project {HOSTILE}",
            "instructions": f"Read {HOSTILE} carefully",
            "segmentation": "posts",
            "label_schema": {"dimensions": ["care"], "custom_labels": [f"label {HOSTILE}"]},
        },
    ).id
    result = [{"from_name": "why", "to_name": "text", "type": "textarea", "value": {"text": [f"why {HOSTILE}"]}}]
    task = {
        "data": {"text": f"Unit {HOSTILE}", "licence": "MIT"},
        "predictions": [{"model_version": "m", "result": result}],
    }
    annotate.import_labelstudio(pid, [task], Fields(), "tasks.json")
    pages = [person.get("/annotate").text, person.get(f"/annotate/{pid}").text]
    unit = unit_id(pages[1])
    person.post(f"/annotate/{pid}/units/{unit}/flag", data={"reason": f"reason {HOSTILE}"})
    pages.append(curator.get(f"/annotate/{pid}/flagged").text)
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for shown in ("Project ", "Read ", "Unit ", "label ", "why "):
        assert shown + escaped in pages[1], shown
    assert "reason " + escaped in pages[2]


def test_the_account_deletion_page_says_what_happens_to_annotations(person) -> None:
    told = " ".join(unescape(re.sub(r"<[^>]+>", " ", person.get("/me").text)).split())
    assert "your labels and whys with the snapshots of your values" in told
    assert "the export files of those projects that hold them" in told
    assert "a unit you flagged stays hidden until a curator removes the personal data" in told


def test_undo_fills_in_the_annotators_own_label_and_why_not_the_suggestion(annotate, person) -> None:
    pid = annotate.create_project(
        None,
        {"name": "Undo", "segmentation": "posts", "label_schema": {"dimensions": ["care"], "custom_labels": ["irony"]}},
    ).id
    suggested = [
        {"from_name": "acceptability", "to_name": "text", "type": "choices", "value": {"choices": ["clearly wrong"]}}
    ]
    tasks = [
        {"data": {"text": text, "licence": "MIT"}, "predictions": [{"model_version": "m", "result": suggested}]}
        for text in ("One.", "Two.")
    ]
    annotate.import_labelstudio(pid, tasks, Fields(), "t")
    first = unit_id(person.get(f"/annotate/{pid}").text)
    own = {"acceptability": "3", "value-care": "1", "why": "my own reason", "custom": "irony"}
    person.post(f"/annotate/{pid}/units/{first}", data=own, headers=HTMX)
    for headers in (HTMX, {}):  # with HTMX and without (a plain form post)
        back = person.post(f"/annotate/{pid}/undo", headers=headers)
        assert unit_id(back.text) == first
        assert status_line(back.text) == "Back: your last label was undone; your label is filled in to correct."
        assert re.search(r'value="3" id="acceptability-3"\s+checked', back.text)
        assert re.search(r'id="value-care-plus"\s+checked', back.text)
        assert re.search(r'id="custom-1"\s+checked', back.text) and ">my own reason</textarea>" in back.text
        assert not re.search(r'id="acceptability-0"\s+checked', back.text)  # not the suggestion
        person.post(f"/annotate/{pid}/units/{first}", data=own, headers=HTMX)


def test_a_machine_suggestion_names_the_value_evaluator_and_the_values_by_their_labels(
    services, annotate, person
) -> None:
    from tests.test_annotate_export_jobs import CalibratedDouble
    from valueprint.annotate.prelabel_run import prelabel_project

    pid = corpus(annotate, ["He hit the dog."], label_schema={"dimensions": ["care", "fairness"]})
    prelabel_project(services.db, pid, CalibratedDouble())
    page = person.get(f"/annotate/{pid}").text
    told = " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())
    assert "Suggested by the value evaluator (43% sure)" in told
    assert f'title="{CalibratedDouble.model_version}"' in page  # the full version, on demand
    care = services.model.space.dimension("care").label
    assert care != "care" and re.search(rf"<li>{re.escape(care)} − violates</li>", unescape(page))


def test_a_visitor_opening_annotate_is_told_to_sign_up_or_sign_in(client, annotate) -> None:
    pid = corpus(annotate, ["He shared his lunch."])
    for path in ("/annotate", f"/annotate/{pid}"):
        landed = client.get(path)
        assert landed.url.path == "/" and "Sign up or sign in to annotate" in landed.text
