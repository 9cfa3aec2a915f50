"""Published-library baselines: the reference figures the evaluator report compares against.

`pyvalues_touche23` runs the English value dictionary that ships with `pyvalues` (the ValueEval
project's own library) on Touché23 texts. It needs no training, no network and no GPU, so it is
the floor a learned evaluator has to clear on the same split.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from valueprint.evaluate.backbone import require
from valueprint.evaluate.datasets import TOUCHE_CATEGORIES

# pyvalues 0.11.1 ships dictionaries (assets/dictionaries/20221007) only for the ten values of
# Schwartz's *original* system, so its dictionary classifier names original values. Each one is
# spread over the Touché23 categories that refine it; an argument labelled "Security" gets both
# "Security: personal" and "Security: societal".
ORIGINAL_TO_TOUCHE: dict[str, tuple[str, ...]] = {
    "Self-direction": ("Self-direction: thought", "Self-direction: action"),
    "Stimulation": ("Stimulation",),
    "Hedonism": ("Hedonism",),
    "Achievement": ("Achievement",),
    "Power": ("Power: dominance", "Power: resources"),
    "Security": ("Security: personal", "Security: societal"),
    "Tradition": ("Tradition",),
    "Conformity": ("Conformity: rules", "Conformity: interpersonal"),
    "Benevolence": ("Benevolence: caring", "Benevolence: dependability"),
    "Universalism": ("Universalism: concern", "Universalism: nature", "Universalism: tolerance"),
}
# Never predicted, so their columns are always 0:
# - "Face" and "Humility" have no original-system counterpart (pyvalues itself drops them when it
#   reduces refined values to original ones: `RefinedCoarseValues.original_values`);
# - "Universalism: objectivity" is a Touché23 addition that is not among pyvalues' 19 refined
#   values at all, so no pyvalues classifier can ever name it.
UNPREDICTED: tuple[str, ...] = ("Face", "Humility", "Universalism: objectivity")


@cache
def _english_dictionary_classifier() -> Any:
    require("pyvalues")  # a clear MissingDependencyError when the library is not installed
    from pyvalues.dictionary_classifier import OriginalValuesDictionaryClassifier

    # get_default() reads the dictionaries bundled in the wheel (one per language) and returns a
    # per-language ensemble; nothing is downloaded.
    return OriginalValuesDictionaryClassifier.get_default()


def _projection(names: Sequence[str]) -> np.ndarray:
    """[len(names), 20] 0/1 matrix taking pyvalues' original-value columns to Touché23 columns."""
    projection = np.zeros((len(names), len(TOUCHE_CATEGORIES)), dtype=np.float32)
    for row, name in enumerate(names):
        for category in ORIGINAL_TO_TOUCHE[name]:
            projection[row, TOUCHE_CATEGORIES.index(category)] = 1.0
    return projection


def pyvalues_touche23(texts: Sequence[str]) -> np.ndarray:
    """Touché23 labels for English `texts` from pyvalues' dictionary classifier: float32 0/1, [n, 20].

    The classifier is `pyvalues.dictionary_classifier.OriginalValuesDictionaryClassifier` with its
    bundled English dictionary (2022-10-07, ~1,070 single words, each worth 1 to one of the ten
    original Schwartz values). Each text is lower-cased, stripped of punctuation and split on
    whitespace; a value is assigned under the classifier's own default rule: its summed word score
    reaches `score_threshold` = `math.ulp(0)`, i.e. at least one of its words occurs (no cap on
    the number of values). pyvalues reports assigned values as score 1 and the rest as 0; an
    assigned original value sets every Touché23 category that refines it (`ORIGINAL_TO_TOUCHE`).
    Face, Humility and Universalism: objectivity are always 0 (`UNPREDICTED`).

    Columns follow `TOUCHE_CATEGORIES`. Texts are classified in one streaming pass (pyvalues takes
    any iterable of segments), so there is no batch size to tune.
    """
    if len(texts) == 0:
        return np.zeros((0, len(TOUCHE_CATEGORIES)), dtype=np.float32)
    classifier = _english_dictionary_classifier()
    results = list(classifier.classify_segments_for_original_values(texts, language="en"))
    original = np.array([result.to_list() for result in results], dtype=np.float32)  # [n, 10], 0/1
    assigned = (original > 0).astype(np.float32)
    return ((assigned @ _projection(results[0].names())) > 0).astype(np.float32)
