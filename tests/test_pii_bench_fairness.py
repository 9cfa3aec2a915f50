"""The PII benchmark's precision is fair to names already in the real sentences: a PERSON detection made
only of capitalised Faker given names, inside the real sentence and overlapping nothing planted, is left
out (neither true nor false positive); anything else the sanitiser finds there stays a false positive."""

from __future__ import annotations

from valueprint.annotate.sanitize import Entity, Sanitised
from valueprint.bench.annotate_pii import Planted, faker_given_names, pre_existing_name, score

SENTENCE = "Cara tells her friend John waves at Brooklyn."


def planted() -> Planted:
    return Planted.fill("{s} That is what {x} told me.", SENTENCE, "PERSON", "Ana Mendes", "", "test")


def person(item: Planted, words: str) -> Entity:
    start = item.text.index(words)
    return Entity("PERSON", start, start + len(words), "[PERSON]")


def test_faker_given_names_span_several_locales_and_are_never_common_nouns() -> None:
    names = faker_given_names()
    assert {"Cara", "Bill", "Jürgen", "Giulia", "Anne", "Marie"} <= names
    assert not {"friend", "Friend", "Mr"} & names


def test_only_capitalised_given_names_inside_the_real_sentence_are_pre_existing() -> None:
    item, names = planted(), faker_given_names()

    def check(words: str) -> bool:
        entity = person(item, words)
        return pre_existing_name(item, entity.start, entity.end, names)

    assert check("Cara") and check("John")
    assert not check("John waves")  # runs past the name
    assert not check("friend")
    assert not check("Ana Mendes")  # the planted name itself
    lower = Planted.fill("{s} Hi.", "ask cara now.", "PERSON", "", "", "test")
    assert not pre_existing_name(lower, 4, 8, names)  # "cara" is not written as a name


def test_pre_existing_names_are_left_out_of_precision_but_other_findings_are_false_positives() -> None:
    item = planted()
    found = [person(item, "Cara"), person(item, "friend"), person(item, "John waves"), person(item, "Ana Mendes")]
    result = Sanitised("", tuple(found))
    figures = score([item], [result], [Sanitised(SENTENCE, ())])
    row = figures["per_type"]["PERSON"]
    assert row["detections"] == 3 and row["precision"] == round(1 / 3, 4)
    assert sorted(row["false_positive_examples"]) == ["John waves", "friend"]
    assert figures["pre_existing_names_left_out"] == {"count": 1, "examples": ["Cara"]}


def test_a_name_the_sanitiser_also_finds_in_the_unmodified_sentence_is_background_not_left_out() -> None:
    item = planted()
    result = Sanitised("", (person(item, "Cara"), person(item, "Ana Mendes")))
    original = Sanitised("", (Entity("PERSON", 0, 4, "[PERSON]"),))
    figures = score([item], [result], [original])
    assert figures["background_hits_in_planted"] == {"PERSON": 1}
    assert figures["pre_existing_names_left_out"]["count"] == 0
    assert figures["per_type"]["PERSON"]["precision"] == 1.0
