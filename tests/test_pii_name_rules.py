"""The rules the person-name finder applies before its head: closed-class words are never names, a word in
lower case in a text written with capitals needs a very sure head, and a possessive "'s" is not part of
the name (pure functions: no model is loaded here)."""

from __future__ import annotations

import numpy as np

from valueprint.annotate.pii.names import Head, PersonNameFinder, is_cased, ruled_out, words_of


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


def test_closed_class_words_are_ruled_out_but_may_and_will_can_be_names() -> None:
    text = "She said Who It May Will her"
    closed, lower = ruled_out(text, words_of(text))
    assert closed.tolist() == [True, False, True, True, False, False, True]
    assert lower.tolist() == [False, True, False, False, False, False, True]  # "said", "her": lower case


def test_a_lower_case_word_of_a_cased_text_needs_the_lower_case_threshold() -> None:
    head = Head(*(np.zeros(1) for _ in range(6)), threshold=0.3, lowercase_threshold=0.9)
    finder = PersonNameFinder(head, encoder=object())
    cased, caseless = "Ask john today.", "ask john today"
    scores = np.array([0.1, 0.5, 0.1])
    assert finder.is_name(cased, words_of(cased), scores).tolist() == [False, False, False]
    assert finder.is_name(caseless, words_of(caseless), scores).tolist() == [False, True, False]
    assert finder.is_name(cased, words_of(cased), np.array([0.1, 0.95, 0.1])).tolist() == [False, True, False]
