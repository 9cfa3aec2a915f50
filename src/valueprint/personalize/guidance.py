"""Guidance: make the model follow the précis more strongly than its own prompt-following allows.

Classifier-free guidance for language models (Sanchez et al. 2023, "Stay on topic with
Classifier-Free Guidance", arXiv:2306.17806). At every step the model scores the next token
twice: with the personalised conversation (précis in the system prompt) and with the plain one
(the caller's messages alone). The step samples from

    log p_guided = log p_plain + γ · (log p_personalised − log p_plain)

so γ = 1 is the personalised model unchanged, and γ > 1 pushes each token further in the
direction the précis moves it: what the précis changes is amplified, what it leaves alone is
left alone. Past γ ≈ 2 small models start to repeat the précis's words; the judge's coherence
floor (rerank) and the perplexity figures of `bench personalize` watch that.

Written here rather than taken from transformers' `UnbatchedClassifierFreeGuidanceLogitsProcessor`
because that one runs the plain branch without position ids, which is wrong for the left-padded
batches (several conversations, several candidates each) that `LocalModel.generate_batch` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Message = dict[str, str]
DEFAULT_GUIDANCE = 1.5  # γ: the value Sanchez et al. found best across their tasks; not tuned on our prompts
MAX_GUIDANCE = 4.0


@dataclass(frozen=True)
class Guidance:
    """Guide generation away from `plain` (the conversations without personalisation) by `scale` (γ)."""

    plain: list[list[Message]]
    scale: float = DEFAULT_GUIDANCE


class GuidedLogits:
    """A transformers logits processor mixing each step's scores with the plain branch's (see module doc).

    Side effects: runs the model once more per generated token (on the plain conversations, with
    its own key-value cache); holds that cache until generation ends."""

    def __init__(self, model: Any, scale: float, plain_ids: Any, plain_mask: Any) -> None:
        import torch

        self.torch, self.model, self.scale = torch, model, scale
        self.ids, self.mask, self.cache = plain_ids, plain_mask, None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        torch = self.torch
        guided = torch.log_softmax(scores, dim=-1)
        plain = torch.log_softmax(self._plain_logits(input_ids), dim=-1)
        return plain + self.scale * (guided - plain)

    def _plain_logits(self, input_ids: Any) -> Any:
        """The plain branch's next-token logits, having fed it the token chosen at the last step."""
        if self.cache is None:  # first step: the whole plain prompt
            ids, mask = self.ids, self.mask
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
        else:  # later steps: only the token the guided branch just chose
            ids = input_ids[:, -1:]
            mask = self.torch.cat([self.mask, self.torch.ones_like(ids)], dim=1)
            positions = mask.sum(-1, keepdim=True) - 1
        self.mask = mask
        out = self.model(ids, attention_mask=mask, position_ids=positions, past_key_values=self.cache, use_cache=True)
        self.cache = out.past_key_values
        return out.logits[:, -1, :]
