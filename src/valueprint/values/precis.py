"""The précis: a profile as at most 120 words of custom instructions a model can act on.

Each mentioned dimension contributes one first-person instruction from `data/guidance.toml`
("When you advise me, weigh what a choice means for my family…", "Be blunt: tell me plainly
when I'm wrong."), in the person's voice, for the pole they lean to. Deterministic: the same
profile always gives the same text. Only dimensions the profile is confident about (SD below a
threshold) and clearly away from the middle (|mean| ≥ 0.25 and at least one SD from zero) are
mentioned, and never a dimension that one of the person's boundaries overrides (a "never use
profanity" boundary silences whatever the profanity-tolerance score says). Instructions come
surest first (by |mean| / SD); the first is led by "Above all," when it is a value (not a
manner of answering) the person holds strongly (|mean| ≥ 0.6). Boundaries and a one-line
safety floor follow. Instructions are dropped from the weakest end to fit the budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from valueprint.values.guidance import MANNER_GROUP, load_guidance
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

MAX_WORDS = 120
MAX_INSTRUCTIONS_CHARS = 1200  # a person's own edited précis (custom instructions), carried by their token
MIN_STRENGTH = 0.25
STRONG = 0.6
SAFETY_LINE = "Safety comes first: none of this makes harmful help acceptable."
NEUTRAL = "I have not stated my values with enough confidence yet; answer me in a balanced, neutral way."


@dataclass(frozen=True)
class Clause:
    dim: str
    group: str
    text: str
    strength: float
    rank: float


def mentionable(profile: ValueProfile, space: ValueSpace, max_sd: float) -> list[Clause]:
    """What the précis may mention: confident dimensions away from the middle, not overridden, surest first."""
    guidance = load_guidance(space)
    overridden = {dim for b in profile.boundaries for dim in space.boundary(b).overrides}
    found = []
    for dim in space.dimensions:
        score = profile.scores[dim.id]
        if score.sd >= max_sd or abs(score.mean) < max(MIN_STRENGTH, score.sd) or dim.id in overridden:
            continue
        text = guidance.of(dim.id).for_mean(score.mean)
        found.append(Clause(dim.id, dim.group, text, abs(score.mean), abs(score.mean) / max(score.sd, 1e-3)))
    return sorted(found, key=lambda c: (-c.rank, c.dim))


def above_all(sentence: str) -> str:
    """ "Above all, " before a sentence, keeping the capital of "I" and "I'm"."""
    first = sentence.split(" ", 1)[0]
    keep = first == "I" or first.startswith("I'")
    return "Above all, " + (sentence if keep else sentence[0].lower() + sentence[1:])


def _compose(clauses: list[Clause], boundary_texts: list[str]) -> str:
    sentences = [c.text for c in clauses]
    if clauses and clauses[0].group != MANNER_GROUP and clauses[0].strength >= STRONG:
        sentences[0] = above_all(sentences[0])
    if not clauses:
        sentences.append(NEUTRAL)
    return " ".join([*sentences, *boundary_texts, SAFETY_LINE])


def word_count(text: str) -> int:
    return len(text.split())


def precis(profile: ValueProfile, space: ValueSpace, max_sd: float = 0.35, max_words: int = MAX_WORDS) -> str:
    """Custom instructions for any AI, in the person's voice, in at most `max_words` words."""
    profile.check_space(space)
    clauses = mentionable(profile, space, max_sd)
    boundaries = [space.boundary(b).text for b in profile.boundaries]
    text = _compose(clauses, boundaries)
    while word_count(text) > max_words and clauses:
        clauses = clauses[:-1]
        text = _compose(clauses, boundaries)
    while word_count(text) > max_words and boundaries:  # only with very many boundaries
        boundaries = boundaries[:-1]
        text = _compose(clauses, boundaries)
    return text


def with_sentences(precis_text: str, sentences: str) -> str:
    """The précis with more of the person's own sentences (their values cards, say) before its safety line."""
    if not sentences:
        return precis_text
    if precis_text.endswith(SAFETY_LINE):
        return f"{precis_text[: -len(SAFETY_LINE)].rstrip()} {sentences} {SAFETY_LINE}".strip()
    return f"{precis_text} {sentences}"
