"""The personal judge: rank candidate replies to one prompt by how well they fit one person.

For replies r_1..r_n to a prompt and a person with mean p_d and SD s_d on each dimension d:

    reading  x_id   value dimensions: the value reader (`reader`, learned + anchored, in units of
                    their spread on the training texts); behaviour dimensions: the reply's form (`style`)
    centred  z_id = tanh(x_id − mean_j x_jd)                only differences between candidates count,
                                                            and no one dimension can outweigh all others
    weight   w_d    1/(s_d² + S0²) on the dimensions the person takes a side on (|p_d| ≥ max(0.25, s_d)),
                    normalised to sum 1 (the rule of `evaluate.alignment` and of the précis)
    fit      f_i  = Σ_d w_d · p_d · z_id
                    − FLUENCY · max(0, best log-prob − log-prob_i − MARGIN)   (a jumble or a loop)
                    − DEGENERATE · degeneracy_i        (loops, word lists, value words stuffed in)
                    − CUT_OFF  if r_i stops mid-sentence (and not every candidate does)
                    − RECITAL · max(0, recital share_i − RECITAL_FREE)       (recites the instructions)

Replies are ranked by f (ties keep their input order). `because` names, per reply, the
dimensions that moved its fit most and any penalty, so a person can see why one reply won.
The scores compare the candidates of one call; they are not comparable across prompts.

Side effects: the first call loads the sentence encoder (about a second) and, when a language
model is given for fluency, runs one forward pass over all candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from valueprint.errors import AlignmentError
from valueprint.evaluate.alignment import confidence_weights
from valueprint.judge.quality import FUNCTION_WORDS, degeneracy, is_cut_off, recital_share
from valueprint.judge.reader import ValueReader
from valueprint.judge.style import STYLE_DIMENSIONS, read_style
from valueprint.values.precis import precis
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace, load_space

FLUENCY = 2.0  # fit lost per nat of mean log-probability below the most fluent candidate, past MARGIN
MARGIN = 1.5  # coherent replies differ by up to ~1.3 nats/token under SmolLM2 (dev pairs); gibberish by far more
CUT_OFF = 2.5  # more than the largest possible difference in value fit (2): a cut reply always loses
DEGENERATE = 3.0
RECITAL = 8.0
RECITAL_FREE = 0.15
UNKNOWN_SD = 1.0  # a dimension the profile does not mention: unknown, so it never counts
MAX_REPLIES = 16
MAX_REPLY_CHARS = 8000
Fluency = Callable[[str, Sequence[str]], np.ndarray]
ProfileInput = Mapping[str, float | Mapping[str, float]]


@dataclass(frozen=True)
class Ranking:
    """The judge's answer for one prompt: best first, a fit score per reply, and why."""

    order: list[int]
    scores: list[float]
    because: list[list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order, "scores": self.scores, "because": self.because}


def profile_arrays(profile: ProfileInput | ValueProfile, space: ValueSpace) -> tuple[np.ndarray, np.ndarray]:
    """Means and SDs over the whole space from `{dim: mean | {"mean": m, "sd": s}}` (unmentioned: unknown)."""
    if isinstance(profile, ValueProfile):
        return profile.means(space), profile.sds(space)
    if not isinstance(profile, Mapping):
        raise AlignmentError('the profile must be an object {dimension: mean or {"mean": m, "sd": s}}')
    means, sds = np.zeros(space.size), np.full(space.size, UNKNOWN_SD)
    for dim, value in profile.items():
        if dim not in space.ids:
            raise AlignmentError(f"unknown dimension {dim!r} in the profile; known: {', '.join(space.ids)}")
        mean, sd = (value.get("mean"), value.get("sd", 0.1)) if isinstance(value, Mapping) else (value, 0.1)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (mean, sd)):
            raise AlignmentError(f"profile dimension {dim!r}: mean and sd must be numbers")
        if not (-1.0 <= float(mean) <= 1.0 and 0.0 <= float(sd) <= 1.0):  # type: ignore[arg-type]
            raise AlignmentError(f"profile dimension {dim!r}: mean must lie in [-1, 1] and sd in [0, 1]")
        means[space.index(dim)], sds[space.index(dim)] = float(mean), float(sd)  # type: ignore[arg-type]
    return means, sds


dimension_weights = confidence_weights  # w_d: the alignment distance's weights (all zero when no side is taken)


def value_vocabulary(space: ValueSpace) -> frozenset[str]:
    """Content words of every value dimension's label, poles and mapped value names (what a salad is made of)."""
    texts = [f"{d.label} {d.low} {d.high} {d.description}" for d in space.dimensions if d.group != "behaviour"]
    texts += list(space.taxonomy_map("daily_dilemmas"))
    words = {w.strip(".,;:'").lower() for t in texts for w in t.replace("-", " ").split()}
    return frozenset(w for w in words if len(w) > 3 and w not in FUNCTION_WORDS)


def _check_replies(prompt: str, replies: Sequence[str]) -> None:
    if not isinstance(prompt, str):
        raise AlignmentError("the prompt must be a string")
    if not isinstance(replies, Sequence) or isinstance(replies, str) or not replies:
        raise AlignmentError("replies must be a non-empty list of strings")
    if len(replies) > MAX_REPLIES:
        raise AlignmentError(f"at most {MAX_REPLIES} replies per prompt; split the candidates")
    for i, reply in enumerate(replies):
        if not isinstance(reply, str):
            raise AlignmentError(f"reply {i} is not a string")
        if len(reply) > MAX_REPLY_CHARS:
            raise AlignmentError(f"reply {i} is longer than {MAX_REPLY_CHARS} characters")


class PersonalJudge:
    """Ranks replies for a person. Thread-safe once loaded; `fluency` is optional (no LM: no fluency term)."""

    def __init__(
        self, reader: ValueReader | None = None, fluency: Fluency | None = None, space: ValueSpace | None = None
    ) -> None:
        self.space = space or load_space()
        self.reader = reader or ValueReader.load("a", space=self.space)
        self.fluency = fluency
        self._style_index = np.array([self.space.index(d) for d in STYLE_DIMENSIONS])
        self._vocabulary = value_vocabulary(self.space)
        self._style_scale = np.asarray(self.reader.meta.get("style_scale") or np.full(len(STYLE_DIMENSIONS), 0.3))

    def readings(self, replies: Sequence[str]) -> np.ndarray:
        """[n, dims]: value readings (in units of their training spread), behaviour readings from form."""
        x = self.reader.read(replies)
        x[:, self._style_index] = read_style(replies) / self._style_scale
        return x

    def contributions(self, profile: ProfileInput | ValueProfile, replies: Sequence[str]) -> np.ndarray:
        """[n, dims]: how much each dimension adds to each reply's fit (w_d · p_d · z_id; penalties apart)."""
        return self._contributions(*profile_arrays(profile, self.space), replies)

    def _contributions(self, means: np.ndarray, sds: np.ndarray, replies: Sequence[str]) -> np.ndarray:
        x = self.readings(replies)
        return dimension_weights(means, sds) * means * np.tanh(x - x.mean(axis=0))

    def rank(self, profile: ProfileInput | ValueProfile, prompt: str, replies: Sequence[str]) -> Ranking:
        _check_replies(prompt, replies)
        means, sds = profile_arrays(profile, self.space)
        contributions = self._contributions(means, sds, replies)
        penalties = self._penalties(prompt, replies, means, sds)
        scores = contributions.sum(axis=1) - sum(penalties.values())
        order = sorted(range(len(replies)), key=lambda i: (-scores[i], i))
        because = [
            self._because(contributions[i], {k: v[i] for k, v in penalties.items()}) for i in range(len(replies))
        ]
        return Ranking(order, [round(float(s), 4) for s in scores], because)

    def _penalties(
        self, prompt: str, replies: Sequence[str], means: np.ndarray, sds: np.ndarray
    ) -> dict[str, np.ndarray]:
        n = len(replies)
        out: dict[str, np.ndarray] = {}
        if self.fluency is not None and n > 1:
            logprob = np.asarray(self.fluency(prompt, replies), dtype=float)
            out["incoherent"] = FLUENCY * np.maximum(0.0, logprob.max() - logprob - MARGIN)
        out["not an answer"], cut = self.text_penalties(replies)
        out["cut off"] = np.where(cut & ~cut.all(), CUT_OFF, 0.0)
        instructions = self._instructions(means, sds)
        share = np.array([recital_share(r, instructions) for r in replies])
        out["recites the instructions"] = RECITAL * np.maximum(0.0, share - RECITAL_FREE)
        return out

    def text_penalties(self, replies: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """What the text alone shows, whoever reads it: (DEGENERATE · degeneracy, cut off?) per reply."""
        degenerate = DEGENERATE * np.array([degeneracy(r, self._vocabulary) for r in replies])
        return degenerate, np.array([is_cut_off(r) for r in replies], dtype=bool)

    def _instructions(self, means: np.ndarray, sds: np.ndarray) -> str:
        """What a reply that recites instead of answering would echo: the précis and every pole it could draw on."""
        profile = ValueProfile.from_arrays(self.space, means, np.minimum(sds, 1.0))
        poles = [d.high if m > 0 else d.low for d, m in zip(self.space.dimensions, means, strict=True) if m]
        return " ".join([precis(profile, self.space, max_sd=0.5), *poles])

    def _because(self, contributions: np.ndarray, penalties: dict[str, float], top: int = 3) -> list[str]:
        reasons = [f"{name} -{value:.2f}" for name, value in penalties.items() if value > 0.005]
        for d in np.argsort(-np.abs(contributions))[:top]:
            if abs(contributions[d]) >= 0.01:
                reasons.append(f"{self.space.ids[d]} {contributions[d]:+.2f}")
        return reasons
