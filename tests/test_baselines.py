"""The pyvalues dictionary baseline: what it predicts, in the evaluator's Touché23 columns."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from valueprint.errors import MissingDependencyError
from valueprint.evaluate import baselines
from valueprint.evaluate.baselines import pyvalues_touche23
from valueprint.evaluate.datasets import TOUCHE_CATEGORIES

NATURE = "We must protect nature and the environment"
MANY_VALUES = (
    "Our tradition and religion demand obedience to the law; we protect nature, seek pleasure and adventure, "
    "achieve success, gain wealth and power, stay safe and secure, help friends and family, and choose freely."
)


def column(name: str) -> int:
    return TOUCHE_CATEGORIES.index(name)


def test_returns_one_binary_float32_row_of_twenty_touche_categories_per_text() -> None:
    predicted = pyvalues_touche23([NATURE, MANY_VALUES, "nothing here"])
    assert predicted.shape == (3, 20) == (3, len(TOUCHE_CATEGORIES))
    assert predicted.dtype == np.float32
    assert set(np.unique(predicted)) <= {0.0, 1.0}


def test_obvious_nature_words_are_labelled_universalism_nature() -> None:
    (row,) = pyvalues_touche23([NATURE])
    assert row[column("Universalism: nature")] == 1.0


def test_an_original_value_sets_every_touche_category_that_refines_it() -> None:
    # The bundled dictionary names the ten original values, so "Universalism" covers all three of its
    # refined categories at once (objectivity excepted, see below).
    (row,) = pyvalues_touche23([NATURE])
    for name in ("Universalism: concern", "Universalism: nature", "Universalism: tolerance"):
        assert row[column(name)] == 1.0


def test_objectivity_face_and_humility_are_never_predicted() -> None:
    predicted = pyvalues_touche23([NATURE, MANY_VALUES, "modest humble honour reputation objective facts"])
    assert predicted[:, column("Universalism: objectivity")].tolist() == [0.0, 0.0, 0.0]
    assert predicted[:, column("Face")].sum() == 0.0
    assert predicted[:, column("Humility")].sum() == 0.0
    # ...while a text full of value words gets every other category.
    assert predicted[1].sum() == 17.0


def test_a_text_without_dictionary_words_gets_no_labels() -> None:
    assert pyvalues_touche23(["", "the of and a to"]).sum() == 0.0


def test_matching_ignores_case_and_punctuation() -> None:
    assert (pyvalues_touche23(["NATURE!"]) == pyvalues_touche23(["nature"])).all()
    assert pyvalues_touche23(["NATURE!"])[0, column("Universalism: nature")] == 1.0


def test_each_row_depends_only_on_its_own_text() -> None:
    texts = [NATURE, "nothing here", MANY_VALUES]
    together = pyvalues_touche23(texts)
    alone = np.vstack([pyvalues_touche23([text]) for text in texts])
    assert (together == alone).all()


def test_empty_input_gives_an_empty_matrix_with_twenty_columns() -> None:
    predicted = pyvalues_touche23([])
    assert predicted.shape == (0, 20)
    assert predicted.dtype == np.float32


def test_a_missing_pyvalues_install_is_reported_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    baselines._english_dictionary_classifier.cache_clear()
    monkeypatch.setitem(sys.modules, "pyvalues", None)  # makes `import pyvalues` fail
    try:
        with pytest.raises(MissingDependencyError, match="pyvalues"):
            pyvalues_touche23([NATURE])
    finally:
        baselines._english_dictionary_classifier.cache_clear()
