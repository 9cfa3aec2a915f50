"""The sanitiser: personal data replaced by typed placeholders, offsets into the original text."""

from __future__ import annotations

import json
import string
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valueprint.annotate.sanitize import Sanitised, Sanitiser, apply
from valueprint.bench import annotate_pii


@pytest.fixture(scope="module")
def sanitiser() -> Sanitiser:
    return Sanitiser()


def found(result: Sanitised, original: str) -> list[tuple[str, str]]:
    return [(e.type, original[e.start : e.end]) for e in result.entities]


@pytest.mark.parametrize(
    ("text", "kind", "item"),
    [
        ("Write to me at jane.doe+work@example.co.uk tomorrow.", "EMAIL", "jane.doe+work@example.co.uk"),
        ("Call me on (415) 555-0132 after six.", "PHONE", "(415) 555-0132"),
        ("My mobile is +44 7700 900123.", "PHONE", "+44 7700 900123"),
        ("I live at 221 Baker Street, London NW1 6XE now.", "ADDRESS", "221 Baker Street, London NW1 6XE"),
        ("Ship it to 12 Elm Forge, Springfield, IL 62704 please.", "ADDRESS", "12 Elm Forge, Springfield, IL 62704"),
        ("My social security number is 536-22-1784.", "ID", "536-22-1784"),
        ("Pay it to GB33 BUKB 2020 1555 5555 55 today.", "ID", "GB33 BUKB 2020 1555 5555 55"),
        ("Passport number X4829103 expired.", "ID", "X4829103"),
        ("My card is 4539 1488 0343 6467, keep it safe.", "CARD", "4539 1488 0343 6467"),
        ("See https://www.facebook.com/john.w.smith84 for photos.", "URL", "https://www.facebook.com/john.w.smith84"),
        ("It is all on https://example.biz/u/kt_92/posts?id=4.", "URL", "https://example.biz/u/kt_92/posts?id=4"),
        ("The login came from 203.0.113.77 at night.", "IP", "203.0.113.77"),
        ("Yesterday Margaret Okafor told me to apologise.", "PERSON", "Margaret Okafor"),
        ("I asked my friend Tomasz and he laughed.", "PERSON", "Tomasz"),
    ],
)
def test_each_type_of_personal_data_becomes_its_placeholder(sanitiser: Sanitiser, text: str, kind: str, item: str):
    result = sanitiser.sanitise(text)
    assert (kind, item) in found(result, text)
    assert f"[{kind}]" in result.text
    assert item not in result.text


def test_a_card_number_failing_the_luhn_check_is_not_a_card(sanitiser: Sanitiser):
    text = "Order 4539 1488 0343 6468 was late."
    assert "CARD" not in [e.type for e in sanitiser.sanitise(text).entities]


def test_a_bare_well_known_domain_is_kept_but_a_personal_page_is_not(sanitiser: Sanitiser):
    result = sanitiser.sanitise("I read it on reddit.com, then on https://www.reddit.com/user/kt_92 too.")
    assert "reddit.com," in result.text
    assert "kt_92" not in result.text and "[URL]" in result.text


def test_ordinary_moral_sentences_are_left_alone(sanitiser: Sanitiser):
    for text in (
        "It's good to help your friends when they're feeling down.",
        "You should return a lost wallet to its owner.",
        "Should you tell your boss that a colleague is using company resources?",
    ):
        assert sanitiser.sanitise(text) == Sanitised(text, ())


def test_offsets_index_the_original_text_and_rebuild_the_sanitised_one(sanitiser: Sanitiser):
    text = "Dear Priya Raman, mail priya@raman.dev or call 020 7946 0958; card 4111-1111-1111-1111."
    result = sanitiser.sanitise(text)
    assert [t for t, _ in found(result, text)] == ["PERSON", "EMAIL", "PHONE", "CARD"]
    assert found(result, text)[1:] == [
        ("EMAIL", "priya@raman.dev"),
        ("PHONE", "020 7946 0958"),
        ("CARD", "4111-1111-1111-1111"),
    ]
    assert apply(text, result.entities) == result.text
    assert all(a.end <= b.start for a, b in zip(result.entities, result.entities[1:], strict=False))


def test_a_very_long_text_is_read_in_full(sanitiser: Sanitiser):
    filler = "It is kind to share your lunch with someone who forgot theirs. " * 1600  # ~100k characters
    text = "mail first@example.org. " + filler + "Or write to last@example.org."
    started = time.perf_counter()
    result = sanitiser.sanitise(text)
    assert time.perf_counter() - started < 120
    assert [(e.type, text[e.start : e.end]) for e in result.entities] == [
        ("EMAIL", "first@example.org"),
        ("EMAIL", "last@example.org"),
    ]
    assert len(result.text) == len(text) - len("first@example.org") - len("last@example.org") + 2 * len("[EMAIL]")


def test_control_characters_and_lone_surrogates_keep_offsets_right(sanitiser: Sanitiser):
    text = "\x00\x07bell\x1b[31m red\u200b\ud800 then mail ana@example.com\x00 ok"
    result = sanitiser.sanitise(text)
    assert found(result, text) == [("EMAIL", "ana@example.com")]
    assert result.text == text.replace("ana@example.com", "[EMAIL]")


def test_html_and_script_pass_through_as_text(sanitiser: Sanitiser):
    text = '<script>alert("x")</script><a href="mailto:evil@example.com">hi</a> <b onclick=f()>ok</b>'
    result = sanitiser.sanitise(text)
    assert ("EMAIL", "evil@example.com") in found(result, text)
    assert result.text.startswith('<script>alert("x")</script><a href="mailto:[EMAIL]">')


words = st.sampled_from(
    [
        "I",
        "told",
        "my",
        "sister",
        "it",
        "was",
        "wrong",
        "Sam",
        "Lee",
        "to",
        "lie",
        "about",
        "money",
        "Oslo",
        "and",
        "Mr",
    ]
)
texts = st.lists(words | st.text(string.ascii_letters + string.digits + " .,:;!?@-'\n", max_size=12), max_size=14).map(
    " ".join
)
slow = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@slow
@given(text=texts)
def test_sanitising_twice_changes_nothing(sanitiser: Sanitiser, text: str):
    once = sanitiser.sanitise(text).text
    assert sanitiser.sanitise(once) == Sanitised(once, ())


@slow
@given(before=texts, email=st.emails(), after=texts)
def test_no_planted_email_survives(sanitiser: Sanitiser, before: str, email: str, after: str):
    text = f"{before} {email} {after}"
    result = sanitiser.sanitise(text)
    assert email not in result.text
    assert any(e.type == "EMAIL" and e.start <= len(before) + 1 < e.end for e in result.entities)


def test_the_benchmark_runs_at_a_tiny_size(shared_data: Path, tmp_path: Path):
    figures = annotate_pii.run(shared_data, sentences=16, seed=3)
    assert figures["sentences"] == 16
    assert set(figures["per_type"]) == {"PERSON", "EMAIL", "PHONE", "ADDRESS", "ID", "CARD", "URL", "IP"}
    assert figures["per_type"]["EMAIL"]["planted"] == 2 and figures["per_type"]["EMAIL"]["recall"] == 1.0
    assert figures["overall"]["recall_ci95"][0] <= figures["overall"]["recall"] <= figures["overall"]["recall_ci95"][1]
    assert "background" in figures and isinstance(figures["goals_missed"], list)
    json.dumps(figures)  # serialisable as written by the CLI


def test_field_labels_are_never_names_and_a_possessive_stays_outside_the_name(sanitiser: Sanitiser):
    text = "Email: jill83@mills.org\nPassport: X4829103\nYesterday Margaret Okafor's dog barked at me."
    result = sanitiser.sanitise(text)
    assert result.text.startswith("Email: [EMAIL]\nPassport: [ID]\n"), result.text
    assert "[PERSON]'s dog" in result.text


def test_a_name_overlapping_an_email_does_not_retype_it():
    from valueprint.annotate.sanitize import Entity, _merge

    merged = _merge([Entity("PERSON", 0, 8, "[PERSON]", 0.2), Entity("EMAIL", 7, 14, "[EMAIL]")])
    assert [(e.type, e.start, e.end) for e in merged] == [("EMAIL", 0, 14)]
