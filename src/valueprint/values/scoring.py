"""One Bayesian model for full and adaptive questionnaires.

Notation: θ ∈ R^d is the person's profile; the prior is N(μ0, Σ0).

* A Likert answer x ∈ {1..5} is mapped to y = (x - 3) / 2 ∈ [-1, 1] and observed as
  y = a·θ + ε, ε ~ N(0, σ_L²), where a is the item's loading vector (reverse-keyed
  items load negatively).
* The political slider gives (x, y) ∈ [-1, 1]², two such observations of the
  economic and social dimensions with noise σ_S.
* A scenario choice among options with value profiles v_1..v_K is a multinomial
  logit observation: P(choose k) ∝ exp(β v_k·θ).

The posterior mean is the MAP estimate (the log-posterior is strictly concave; we
maximise it by Newton's method, batched over respondents for simulation). The
posterior covariance is the inverse of
    Λ = Σ0⁻¹ + Σ_Likert a aᵀ/σ_L² + Σ_slider e eᵀ/σ_S² + Σ_scenarios β² Vᵀ C V,
where C(θ) = diag(p) − p pᵀ for the option probabilities p at θ, averaged over the
population prior: each scenario choice contributes its expected Fisher information
(a Monte-Carlo average over `INFORMATION_SAMPLES` prior draws, fixed seed). This is a
deliberate simplification of a Laplace approximation at the MAP, which would make the
covariance depend on the answers: here it depends only on which items were answered,
so an answer can never increase any posterior SD, and the expected uncertainty
reduction that drives the adaptive questionnaire is exact rather than estimated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from valueprint.values.answers import Answers
from valueprint.values.bank import LikertItem, QuestionBank, ScenarioItem, SliderItem
from valueprint.values.prior import Prior
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

MAX_OPTIONS = 3
NEWTON_MAX_ITER = 25
NEWTON_TOL = 1e-7
MAX_NEWTON_STEP = 1.0
INFORMATION_SAMPLES = 4000
COVARIANCES_KEPT = 2048  # answered sets whose covariance is remembered (26x26 floats: 5.4 kB each, 11 MB in all)


@dataclass(frozen=True)
class ModelParams:
    likert_noise: float = 0.5
    slider_noise: float = 0.25
    choice_sharpness: float = 2.5


@dataclass(frozen=True)
class Posterior:
    mean: np.ndarray  # (d,) clipped to [-1, 1]
    cov: np.ndarray  # (d, d)
    map_mean: np.ndarray | None = None  # (d,) the MAP estimate before clipping: where the next Newton run starts

    @property
    def sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


@dataclass
class EncodedAnswers:
    """Answers as arrays, batched over respondents (leading axis n)."""

    mask: np.ndarray  # (n, N) bool: item answered (not skipped)
    gaussian_y: np.ndarray  # (n, R) observed values of the Gaussian rows
    choice: np.ndarray  # (n, S) chosen option index per scenario item (0 where unanswered)


class ScoringModel:
    """Scores answers into a posterior; the item arrays are precomputed once per bank."""

    def __init__(self, space: ValueSpace, bank: QuestionBank, prior: Prior, params: ModelParams | None = None):
        self.space, self.bank, self.prior = space, bank, prior
        self.params = params or ModelParams()
        self.item_ids = bank.ids
        self.item_index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        self.prior_precision = np.linalg.inv(prior.cov)
        self._build_gaussian_rows()
        self._build_scenarios()
        self.information = self._item_information()  # (N, d, d)
        self.information_factors = self._low_rank_factors()  # (N, d, r): information = F Fᵀ
        # Outer products of observation rows and option vectors, flattened so that the
        # batched Newton step is a matrix product (BLAS) rather than a 3-operand einsum.
        self._g_outer = np.einsum("rd,re->rde", self.g_rows, self.g_rows).reshape(len(self.g_rows), -1)
        flat_options = self.s_vectors.reshape(-1, self.space.size)
        self._s_outer = np.einsum("od,oe->ode", flat_options, flat_options).reshape(len(flat_options), -1)
        # The covariance depends only on which items were answered, and the adaptive questionnaire leads
        # everyone along the same few paths: remember it per answered set (functools' LRU is thread-safe).
        self._covariance_of = lru_cache(maxsize=COVARIANCES_KEPT)(self._covariance_for_key)

    # -- construction ---------------------------------------------------------

    def _vector(self, loadings: dict[str, float]) -> np.ndarray:
        vector = np.zeros(self.space.size)
        for dim, weight in loadings.items():
            vector[self.space.index(dim)] = weight
        return vector

    def _build_gaussian_rows(self) -> None:
        rows, noise, owner, row_of = [], [], [], {}
        for i, item in enumerate(self.bank.items):
            if isinstance(item, LikertItem):
                row_of[item.id] = (len(rows),)
                rows.append(self._vector(item.loadings))
                noise.append(self.params.likert_noise)
                owner.append(i)
            elif isinstance(item, SliderItem):
                row_of[item.id] = (len(rows), len(rows) + 1)
                for dim in (item.x_dim, item.y_dim):
                    rows.append(self._vector({dim: 1.0}))
                    noise.append(self.params.slider_noise)
                    owner.append(i)
        self.g_rows = np.array(rows).reshape(-1, self.space.size)
        self.g_precision = 1.0 / np.square(np.array(noise))
        self.g_owner = np.array(owner, dtype=int)
        self.g_row_of = row_of

    def _build_scenarios(self) -> None:
        scenarios = [(i, item) for i, item in enumerate(self.bank.items) if isinstance(item, ScenarioItem)]
        self.s_owner = np.array([i for i, _ in scenarios], dtype=int)
        self.s_column = {item.id: s for s, (_, item) in enumerate(scenarios)}
        self.s_vectors = np.zeros((len(scenarios), MAX_OPTIONS, self.space.size))
        self.s_valid = np.zeros((len(scenarios), MAX_OPTIONS), dtype=bool)
        for s, (_, item) in enumerate(scenarios):
            for k, option in enumerate(item.options):
                self.s_vectors[s, k] = self._vector(option.profile)
                self.s_valid[s, k] = True

    def _item_information(self) -> np.ndarray:
        d = self.space.size
        info = np.zeros((len(self.item_ids), d, d))
        weighted = self.g_rows * self.g_precision[:, None]
        np.add.at(info, self.g_owner, np.einsum("rd,re->rde", weighted, self.g_rows))
        beta = self.params.choice_sharpness
        population = self.prior.sample(INFORMATION_SAMPLES, np.random.default_rng(20261123))
        for s, owner in enumerate(self.s_owner):
            vectors = self.s_vectors[s, self.s_valid[s]]  # (K, d)
            utility = beta * population @ vectors.T  # (M, K)
            p = np.exp(utility - utility.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            centre = np.diag(p.mean(axis=0)) - p.T @ p / len(p)  # E[diag(p) - p pᵀ]
            info[owner] = beta**2 * vectors.T @ centre @ vectors
        return info

    def _low_rank_factors(self) -> np.ndarray:
        """F with F Fᵀ = each item's information. Every item has rank ≤ 2 (one Likert row,
        the slider's two axes, a choice among at most three options), which lets the
        adaptive step use the Woodbury identity instead of inverting a d×d matrix per item."""
        values, vectors = np.linalg.eigh(self.information)  # ascending eigenvalues
        rank = int(max(1, (values > 1e-10 * values.max()).sum(axis=1).max()))
        top_values, top_vectors = values[:, -rank:], vectors[:, :, -rank:]
        return top_vectors * np.sqrt(np.clip(top_values, 0.0, None))[:, None, :]

    # -- encoding -------------------------------------------------------------

    def encode(self, answers: Answers) -> EncodedAnswers:
        mask = np.zeros((1, len(self.item_ids)), dtype=bool)
        y = np.zeros((1, len(self.g_rows)))
        choice = np.zeros((1, len(self.s_owner)), dtype=int)
        for item_id, value in answers.likert.items():
            mask[0, self.item_index[item_id]] = True
            y[0, self.g_row_of[item_id][0]] = (value - 3) / 2
        for item_id, coordinates in answers.slider.items():
            mask[0, self.item_index[item_id]] = True
            y[0, list(self.g_row_of[item_id])] = coordinates
        for item_id, key in answers.scenario.items():
            mask[0, self.item_index[item_id]] = True
            choice[0, self.s_column[item_id]] = "ABC".index(key)
        return EncodedAnswers(mask=mask, gaussian_y=y, choice=choice)

    # -- inference ------------------------------------------------------------

    def precision(self, mask: np.ndarray) -> np.ndarray:
        """Posterior precision for answered-item masks (n, N) -> (n, d, d)."""
        d = self.space.size
        flat = mask.astype(float) @ self.information.reshape(len(self.item_ids), d * d)
        return self.prior_precision[None] + flat.reshape(-1, d, d)

    def map_means(self, encoded: EncodedAnswers, start: np.ndarray | None = None) -> np.ndarray:
        """MAP posterior means (n, d), unclipped, by batched Newton's method.

        The log-posterior is strictly concave, so the maximum does not depend on where Newton starts:
        `start` (n, d), e.g. the mean before the latest answer, only saves iterations. Without it the
        search starts at the Gaussian answers' exact posterior mean."""
        n, d = encoded.mask.shape[0], self.space.size
        g_weight = encoded.mask[:, self.g_owner] * self.g_precision  # (n, R)
        gauss_precision = self.prior_precision[None] + (g_weight @ self._g_outer).reshape(n, d, d)
        linear = self.prior_precision @ self.prior.mean + (g_weight * encoded.gaussian_y) @ self.g_rows
        answered = np.flatnonzero(encoded.mask[:, self.s_owner].any(axis=0))  # scenario columns anyone answered
        if answered.size == 0:
            return np.linalg.solve(gauss_precision, linear[..., None])[..., 0]
        if start is None:
            theta = np.linalg.solve(gauss_precision, linear[..., None])[..., 0]
        else:
            theta = np.array(start, dtype=float).reshape(n, d)
        # only the answered scenarios' columns: an unanswered one has zero weight in every term below
        s_weight = encoded.mask[:, self.s_owner[answered]].astype(float)  # (n, S')
        s_vectors, s_valid = self.s_vectors[answered], self.s_valid[answered]  # (S', K, d), (S', K)
        s_outer = self._s_outer.reshape(-1, MAX_OPTIONS, d * d)[answered].reshape(-1, d * d)
        beta = self.params.choice_sharpness
        chosen = np.eye(MAX_OPTIONS)[encoded.choice[:, answered]] * s_weight[..., None]  # (n, S', K)
        vectors = s_vectors.reshape(-1, d)  # (S'*K, d)
        for _ in range(NEWTON_MAX_ITER):
            utility = beta * (theta @ vectors.T).reshape(n, -1, MAX_OPTIONS)
            utility = np.where(s_valid[None], utility, -np.inf)
            utility -= utility.max(axis=2, keepdims=True)
            p = np.exp(utility)
            p /= p.sum(axis=2, keepdims=True)
            p_weighted = (p * s_weight[..., None]).reshape(n, -1)  # (n, S'*K)
            gradient = linear - np.matmul(gauss_precision, theta[..., None])[..., 0]
            gradient += beta * (chosen.reshape(n, -1) - p_weighted) @ vectors
            expected = np.matmul(p[:, :, None, :], s_vectors[None])[:, :, 0, :]  # (n, S', d)
            second = (p_weighted @ s_outer).reshape(n, d, d)
            second -= np.matmul((expected * s_weight[..., None]).transpose(0, 2, 1), expected)
            step = np.linalg.solve(gauss_precision + beta**2 * second, gradient[..., None])[..., 0]
            norm = np.linalg.norm(step, axis=1, keepdims=True)
            step *= np.minimum(1.0, MAX_NEWTON_STEP / np.maximum(norm, 1e-12))
            theta = theta + step
            if norm.max() < NEWTON_TOL:
                break
        return theta

    def _covariance_for_key(self, packed: bytes) -> np.ndarray:
        mask = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=len(self.item_ids)).astype(bool)
        cov = np.linalg.inv(self.precision(mask[None])[0])
        cov.setflags(write=False)  # shared by every caller: nobody may change it
        return cov

    def covariance(self, answered: np.ndarray) -> np.ndarray:
        """The posterior covariance for an answered-item mask (N,), read-only; remembered per answered set."""
        return self._covariance_of(np.packbits(answered).tobytes())

    def posterior(self, answers: Answers, start: np.ndarray | None = None) -> Posterior:
        """The posterior after `answers`; `start` (d,), a MAP mean of earlier answers, only makes it faster."""
        encoded = self.encode(answers)
        map_mean = self.map_means(encoded, None if start is None else start[None])[0]
        cov = self.covariance(encoded.mask[0])
        return Posterior(mean=np.clip(map_mean, -1.0, 1.0), cov=cov, map_mean=map_mean)

    def profile(self, answers: Answers, start: np.ndarray | None = None) -> ValueProfile:
        return self.profile_of(answers, self.posterior(answers, start))

    def profile_of(self, answers: Answers, posterior: Posterior) -> ValueProfile:
        """The profile of a posterior computed from `answers`."""
        return ValueProfile.from_arrays(
            self.space,
            posterior.mean,
            posterior.sd,
            boundaries=tuple(answers.boundaries),
            answered=len(answers.answered),
        )
