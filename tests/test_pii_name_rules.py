"""The rules the person-name finder applies before its head: closed-class words, kinship and role nouns and
tokens with digits are never names, nor is a word in lower case in a text written with capitals unless it
is a particle between name words, and a possessive "'s" is not part of the name (pure functions: no model
is loaded here)."""

from __future__ import annotations

import numpy as np

from valueprint.annotate.pii.names import Head, PersonNameFinder, is_cased, is_relation, never_names, spans_of, words_of


def texts(words) -> list[str]:
    return [w.text for w in words]


def test_a_possessive_is_not_part_of_the_word_but_apostrophes_inside_names_are() -> None:
    assert texts(words_of("John's car and O'Neill's dog; Mary-Jane’s too.")) == [
        "John",
        "car",
        "and",
        "O'Neill",
        "dog",
        "Mary-Jane",
        "too",
    ]
    word = words_of("Ask Lily's mum")[1]
    assert (word.start, word.end) == (4, 8)


def test_a_text_is_cased_when_most_of_its_sentences_begin_with_a_capital() -> None:
    for cased in ("I told john about it.", "My friend lied. Then she left!", "Posted by someone. ok"):
        assert is_cased(cased, words_of(cased)), cased
    for caseless in ("i told john about it", "lol. idk what to say. Maybe", ""):
        assert not is_cased(caseless, words_of(caseless)), caseless


def test_only_first_words_that_show_a_case_decide_and_a_colon_ends_no_sentence() -> None:
    for cased in ("John parks here. email: jill83@mills.org", "+61 8 6097 5929 — Liv buys it.", "Ask (bo99) now."):
        assert is_cased(cased, words_of(cased)), cased
    for caseless in ("+61 8 6097 5929 — liv buys it.", "ok: Then what. no idea. fine"):
        assert not is_cased(caseless, words_of(caseless)), caseless
    assert named("John parks here. email: jill83@mills.org", [0.9, 0.9, 0, 0, 0, 0]) == ["John"]


def finder(threshold: float = 0.3) -> PersonNameFinder:
    return PersonNameFinder(Head(*(np.zeros(1) for _ in range(6)), threshold=threshold), encoder=object())


def named(text: str, scores: list[float] | None = None) -> list[str]:
    """The words named when the head gives them `scores` (0.9 each when None)."""
    words = words_of(text)
    scores = [0.9] * len(words) if scores is None else scores
    assert len(words) == len(scores), texts(words)
    return [w.text for w, n in zip(words, finder().is_name(text, words, np.array(scores)), strict=True) if n]


def test_closed_class_words_are_ruled_out_but_may_and_will_can_be_names() -> None:
    text = "She said Who It May Will her"
    assert never_names(text, words_of(text)).tolist() == [True, True, True, True, False, False, True]


def test_contractions_of_closed_class_words_are_never_names() -> None:
    text = "I've told Ann, but I'm sure they don't Care"
    assert named(text) == ["Ann", "Care"]


def test_kinship_and_role_nouns_and_honorifics_are_never_names_in_any_case_or_number() -> None:
    for word in ("friend", "Friends", "sister-in-law", "Brothers-in-law", "ex-wife", "Husband", "Mr", "Grandma"):
        assert is_relation(word), word
    for word in ("Fred", "Mary-Jane", "Wifey-Smith", "Sonja", "Ross", "Friendly"):
        assert not is_relation(word), word
    assert named("My Friend Rosa and Mr. Ito or Grandma") == ["Rosa", "Ito"]


def test_tokens_with_a_digit_are_never_names() -> None:
    assert named("Studio 27p, flat 33F, Anna5 and R2D2 met Anna") == ["Studio", "Anna"]


def test_a_lower_case_word_of_a_cased_text_is_never_a_name_however_sure_the_head() -> None:
    cased, caseless = "Ask john today.", "ask john today"
    assert named(cased, [0.1, 0.99, 0.1]) == []
    assert named(caseless, [0.1, 0.5, 0.1]) == ["john"]  # typed all in lower case: the head decides
    assert named(cased, [0.1, 0.31, 0.1]) == [] and named("Ask John today.", [0.1, 0.31, 0.1]) == ["John"]


def test_a_particle_is_part_of_a_name_only_between_name_words() -> None:
    assert named("We met Ludwig van Beethoven there.", [0, 0, 0.9, 0.05, 0.9, 0]) == ["Ludwig", "van", "Beethoven"]
    assert named("Ask Dirk van der Berg.", [0, 0.9, 0, 0, 0.9]) == ["Dirk", "van", "der", "Berg"]
    assert named("The van de Ville drove off.", [0, 0.9, 0, 0.9, 0, 0]) == ["Ville"]  # no name before "van"
    assert named("Ask Dirk van the Berg.", [0, 0.9, 0, 0, 0.9]) == ["Dirk", "Berg"]  # "the" is no particle
    text, scores = "Ask Dirk van Berg.", np.array([0, 0.9, 0, 0.9])
    words = words_of(text)
    spans = spans_of(text, words, scores, finder().is_name(text, words, scores))
    assert [text[s.start : s.end] for s in spans] == ["Dirk van Berg"]  # one span across the particle
