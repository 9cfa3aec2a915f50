"""The précis: a profile as at most 120 words of plain-language custom instructions.

Deterministic: the same profile always gives the same text. Only dimensions the
profile is confident about (SD below a threshold) and clearly away from the middle
(|mean| ≥ 0.25 and at least one SD from zero) are mentioned, and never a dimension
that one of the person's boundaries overrides (a "never use profanity" boundary
silences whatever the profanity-tolerance score says), surest first (by |mean| / SD), in two parts: what
the person values ("above all" for |mean| ≥ 0.6), and how they want the AI to
behave. Boundaries and a one-line
safety floor follow. Clauses are dropped from the weakest end to fit the budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

MAX_WORDS = 120
MIN_STRENGTH = 0.25
STRONG = 0.6
SAFETY_LINE = "Safety comes first: none of this makes harmful help acceptable."


@dataclass(frozen=True)
class Clause:
    dim: str
    group: str
    text: str
    strength: float
    rank: float


def _clauses(profile: ValueProfile, space: ValueSpace, max_sd: float) -> list[Clause]:
    overridden = {dim for b in profile.boundaries for dim in space.boundary(b).overrides}
    clauses = []
    for dim in space.dimensions:
        score = profile.scores[dim.id]
        if score.sd >= max_sd or abs(score.mean) < max(MIN_STRENGTH, score.sd) or dim.id in overridden:
            continue
        pole = dim.high if score.mean > 0 else dim.low
        clauses.append(Clause(dim.id, dim.group, pole, abs(score.mean), abs(score.mean) / max(score.sd, 1e-3)))
    return sorted(clauses, key=lambda c: (-c.rank, c.dim))


def _compose(clauses: list[Clause], boundary_texts: list[str]) -> str:
    strong = [c.text for c in clauses if c.group != "behaviour" and c.strength >= STRONG]
    milder = [c.text for c in clauses if c.group != "behaviour" and c.strength < STRONG]
    manner = [c.text for c in clauses if c.group == "behaviour"]
    parts = []
    if strong:
        parts.append("About me: above all, I am someone who " + "; who ".join(strong) + ".")
    if milder:
        lead = "I am also someone who " if strong else "About me: I am someone who "
        parts.append(lead + "; who ".join(milder) + ".")
    if manner:
        parts.append("How to answer me: " + "; ".join(manner) + ".")
    if not clauses:
        parts.append("I have not stated my values with enough confidence yet; answer in a balanced, neutral way.")
    parts.extend(boundary_texts)
    parts.append(SAFETY_LINE)
    return " ".join(parts)


def word_count(text: str) -> int:
    return len(text.split())


def precis(profile: ValueProfile, space: ValueSpace, max_sd: float = 0.35, max_words: int = MAX_WORDS) -> str:
    """Custom instructions for any AI, in at most `max_words` words."""
    profile.check_space(space)
    clauses = _clauses(profile, space, max_sd)
    boundaries = [space.boundary(b).text for b in profile.boundaries]
    text = _compose(clauses, boundaries)
    while word_count(text) > max_words and clauses:
        clauses = clauses[:-1]
        text = _compose(clauses, boundaries)
    while word_count(text) > max_words and boundaries:  # only with very many boundaries
        boundaries = boundaries[:-1]
        text = _compose(clauses, boundaries)
    return text
