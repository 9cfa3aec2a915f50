"""How a reply is written, read from its form: one signed score per behaviour dimension.

The eight behaviour dimensions (directness, formality, humour, caution, autonomy, viewpoint
diversity, emotional support, profanity tolerance) are about *how* an answer is put, which a
topic embedding barely sees: two replies giving the same advice bluntly and gently embed almost
alike. No labelled data set for them exists, and no classifier for them ships its weights on the
registries, so they are read from surface markers here — written by hand for that reason — except
profanity, which comes from `alt-profanity-check` (a maintained scikit-learn model, MIT).

Each score is in [-1, 1], positive toward the dimension's high pole in `space.toml`, and depends
on marker *rates* (per sentence), so a long reply does not score higher just for being long.
Scores are meant for comparing candidate replies to one prompt, not as absolute measurements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from valueprint.evaluate.backbone import require

STYLE_DIMENSIONS = (
    "directness",
    "formality",
    "humour",
    "caution",
    "autonomy",
    "viewpoint_diversity",
    "emotional_support",
    "profanity_tolerance",
)

_HEDGES = (
    r"\bmight\b",
    r"\bmaybe\b",
    r"\bperhaps\b",
    r"\bpossibly\b",
    r"\bit may\b",
    r"\bcould be\b",
    r"\byou could consider\b",
    r"\bworth considering\b",
    r"\bif you feel\b",
    r"\bif it feels\b",
    r"\bgently\b",
    r"\bit'?s understandable\b",
    r"\bi wonder\b",
    r"\bnot necessarily\b",
    r"\bit depends\b",
    r"\btry to\b",
    r"\bsoft(en|ly)\b",
    r"\bkind(ly)?\b",
    r"\bperfectly (normal|okay|fine)\b",
    r"\bno rush\b",
    r"\bat your own pace\b",
)
_DIRECT = (
    r"\byou should\b",
    r"\byou need to\b",
    r"\byou must\b",
    r"\bdon'?t\b",
    r"\bstop\b",
    r"\bhonestly\b",
    r"\bfrankly\b",
    r"\bthe truth is\b",
    r"\bbluntly\b",
    r"\bplainly\b",
    r"^no[.,!]",
    r"\bjust\b",
    r"\bdo it\b",
    r"\bwon'?t\b",
    r"\bis a mistake\b",
    r"\bbad idea\b",
    r"\bquit\b",
    r"\bnow\.",
    r"\bright now\b",
)
_INFORMAL = (
    r"\b\w+'(s|re|ll|m|d|ve|t)\b",
    r"n't\b",
    r"\b(gonna|wanna|gotta|kinda|sorta|yeah|yep|nope|hey|lol|haha|ok|okay)\b",
    r"\b(awesome|cool|stuff|folks|dude|totally|super|pretty much|chill|mate|guys|bet|vibe|honestly)\b",
    r"!",
    r"[\U0001F300-\U0001FAFF]",
    r"\b(tbh|btw|imo|omg)\b",
    r"—",
)
_FORMAL = (
    r"\b(therefore|however|furthermore|moreover|consequently|accordingly|thus|hence|whereas|regarding)\b",
    r"\b(it is advisable|one should|please note|i would recommend|i would suggest|it would be prudent)\b",
    r"\b(appropriate|ensure|prior to|subsequently|demonstrate|organisation|organization|professional)\b",
    r"\b(additionally|nevertheless|in accordance|with respect to|it is|you may wish)\b",
)
_HUMOUR = (
    r"\b(haha|hah|lol|lmao|joke|kidding|pun|plot twist|spoiler|hilarious|funny|laugh)\b",
    r"[\U0001F600-\U0001F64F\U0001F923\U0001F602]",
    r"!\s",
    r"\bwho knows\b",
    r"\bbonus points\b",
    r"\(.*?\)",
    r"\b(unless|until) .* (dragon|zombie|unicorn|cat|pizza|superhero|ninja)",
    r"\blike a\b",
    r"\b(secret weapon|pro tip|trust me|fun fact|legend|epic|disaster|chaos|drama)\b",
)
_CAUTION = (
    r"\b(careful|carefully|caution|risk|risks|risky|safe|safety|safer|warning|danger|dangerous|hazard)\b",
    r"\b(make sure|be aware|double-?check|check with|consult|doctor|professional|insurance|backup|precaution)\b",
    r"\b(in case|just in case|don'?t forget|beware|avoid|protect|emergency|side effects?)\b",
)
_INCAUTION = (
    r"\b(don'?t worry|no need to|skip the|just go for it|trust yourself|you'?ll be fine|overthink|fuss)\b",
    r"\b(no big deal|go for it|dive in|jump in)\b",
)
_OPTIONS = (
    r"\b(option|options|alternatively|either|another (way|option|approach)|one approach|or you could)\b",
    r"\b(it'?s up to you|your call|you decide|your decision|depends on what|if you prefer|whichever)\b",
    r"\b(on the other hand|weigh|trade-?offs?|pros and cons)\b",
    r"^\s*(\d+[.)]|[-*•])\s",
    r"\byou could\b",
)
_RECOMMEND = (
    r"\b(i recommend|i'?d recommend|my advice|my recommendation|the best (choice|option|move)|go with)\b",
    r"\b(definitely|do this|you should|i would|i'?d)\b",
    r"\bthe answer is\b",
)
_VIEWPOINTS = (
    r"\b(some people|others|many argue|critics|supporters|some would say|others believe|while some)\b",
    r"\b(perspectives?|viewpoints?|points? of view|both sides|on the other hand|another view|opponents)\b",
    r"\b(from a \w+ (perspective|standpoint|view)|some (say|argue|believe|think)|others (say|argue|think))\b",
)
_SINGLE_VIEW = (r"\b(clearly|simply|the answer is|the right (answer|choice) is|no question|obviously)\b",)
_WARMTH = (
    r"\b(i'?m (so )?sorry|that sounds|it'?s (okay|ok|natural|normal|understandable)|you'?re not alone|i hear you)\b",
    r"\b(feel|feels|feeling|feelings|heart|hard on yourself|be kind to yourself|take care|proud of you)\b",
    r"\b(must be (hard|tough|difficult|painful)|that'?s a lot|completely valid|gentle with yourself|you deserve)\b",
    r"\b(worried|anxious|stressful|overwhelming|hurt|lonely|grief|upset)\b",
)

_COMPILED = {
    name: [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in patterns]
    for name, patterns in {
        "hedges": _HEDGES,
        "direct": _DIRECT,
        "informal": _INFORMAL,
        "formal": _FORMAL,
        "humour": _HUMOUR,
        "caution": _CAUTION,
        "incaution": _INCAUTION,
        "options": _OPTIONS,
        "recommend": _RECOMMEND,
        "viewpoints": _VIEWPOINTS,
        "single_view": _SINGLE_VIEW,
        "warmth": _WARMTH,
    }.items()
}
_SENTENCE_END = re.compile(r"[.!?]+(\s|$)|\n+")


def _rate(text: str, name: str, sentences: float) -> float:
    """Marker hits per sentence (each pattern counted every time it matches)."""
    return sum(len(p.findall(text)) for p in _COMPILED[name]) / sentences


def sentence_count(text: str) -> float:
    return max(1.0, float(len(_SENTENCE_END.findall(text.strip()))))


def _long_word_share(text: str) -> float:
    words = re.findall(r"[A-Za-z]+", text)
    return sum(len(w) >= 9 for w in words) / max(1, len(words))


def form_scores(text: str, profanity: float) -> np.ndarray:
    """The eight behaviour scores of one reply, in STYLE_DIMENSIONS order; `profanity` is P(profane)."""
    n = sentence_count(text)

    def contrast(high: str, low: str, scale: float = 1.5) -> float:
        return float(np.tanh(scale * (_rate(text, high, n) - _rate(text, low, n))))

    formality = np.tanh(
        1.2 * (_rate(text, "formal", n) - _rate(text, "informal", n)) + 6.0 * (_long_word_share(text) - 0.1)
    )
    return np.array(
        [
            contrast("direct", "hedges"),
            float(formality),
            float(np.tanh(1.5 * _rate(text, "humour", n))),
            contrast("caution", "incaution", 1.2),
            contrast("options", "recommend"),
            contrast("viewpoints", "single_view", 2.0),
            float(np.tanh(1.5 * _rate(text, "warmth", n))),
            float(2.0 * profanity - 1.0),
        ]
    )


def profanity_probabilities(texts: Sequence[str]) -> np.ndarray:
    """P(profane or insulting) per text, from alt-profanity-check."""
    try:
        check = require("profanity_check")
    except Exception as error:  # MissingDependencyError names the extra; say which package exactly
        raise type(error)(
            "the judge reads profanity with alt-profanity-check: pip install alt-profanity-check==1.9.1"
        ) from error
    return np.asarray(check.predict_prob(list(texts)), dtype=float) if texts else np.zeros(0)


def read_style(texts: Sequence[str]) -> np.ndarray:
    """[n, 8] behaviour scores in STYLE_DIMENSIONS order."""
    profane = profanity_probabilities(texts)
    return np.stack([form_scores(t, p) for t, p in zip(texts, profane, strict=True)]) if texts else np.zeros((0, 8))
