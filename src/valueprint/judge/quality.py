"""Is a reply a real answer? Fluency, completeness, and whether it answers rather than recites.

- **Fluency**: the mean log-probability per token of the reply after the prompt, under the plain
  local language model (SmolLM2 by default). A jumble of value words, a loop or a word list is far
  less likely than ordinary prose; this is the "fluent beats fluent-looking" term.
- **Cut off**: a reply that does not end at a sentence end (., !, ?, a closing quote or bracket
  after one, or a list item ending a line).
- **Degenerate text**: what a language model's likelihood misses — loops are *likely* (repetition
  feeds itself) and a list of common value words is not much less likely than prose. So three
  plain measures of the text itself: repeated word bigrams (distinct-2), a share of function words
  far below any English sentence's (a word list), and a share of value vocabulary (the pole
  descriptions' content words) far above any real answer's (value words stuffed in).
- **Recital**: a reply that restates the person's instructions instead of answering: the share
  of its word trigrams found in the instructions (the précis and the value poles it draws on),
  plus the précis's own openings ("About me:", "How to answer me:").

All three are penalties relative to the other candidates, applied by `judge.PersonalJudge`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

_COMPLETE = re.compile(r"""([.!?…]["'”’)\]]*|[.!?…]\s*[\U0001F300-\U0001FAFF]+|\n)\s*$""")
_RECITAL_MARKERS = re.compile(
    r"\b(about me:|how to answer me:|i am someone who|as someone who (values|is)|instructions for this reply|"
    r"the (user|reader|person) (values|wants|prefers|is someone)|above all, i|you are someone who|user profile|"
    r"behaviou?r preferences)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z']+")


def is_cut_off(text: str) -> bool:
    """True when the reply stops mid-sentence (empty text counts as cut off)."""
    stripped = text.rstrip()
    if not stripped:
        return True
    last_line = stripped.splitlines()[-1].lstrip()
    if re.match(r"^(\d+[.)]|[-*•])\s", last_line) and len(last_line.split()) >= 3:
        return False  # a list ending on its last item
    return _COMPLETE.search(stripped) is None


# The commonest English function words: prose runs at 35–55% of them, a keyword list near 0%. Thresholds
# below: real replies in the dev pairs stay under 0.2 value vocabulary and over 0.9 distinct bigrams.
FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "so",
        "because",
        "as",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "about",
        "than",
        "then",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "his",
        "our",
        "their",
        "not",
        "no",
        "what",
        "which",
        "who",
        "when",
        "where",
        "how",
        "there",
        "here",
        "just",
        "also",
        "very",
        "more",
        "most",
        "all",
        "any",
        "some",
        "such",
        "only",
        "own",
        "same",
        "too",
        "up",
        "out",
        "over",
    ]
)


def distinct_bigrams(text: str) -> float:
    """Unique word bigrams / all word bigrams (1.0 for text too short to judge)."""
    words = _WORD.findall(text.lower())
    grams = list(itertools.pairwise(words))
    return len(set(grams)) / len(grams) if len(grams) >= 8 else 1.0


def function_word_share(text: str) -> float:
    words = _WORD.findall(text.lower())
    return sum(w in FUNCTION_WORDS for w in words) / len(words) if len(words) >= 8 else 0.4


def vocabulary_share(text: str, vocabulary: frozenset[str]) -> float:
    """Share of the reply's content words (not function words) that are in `vocabulary`."""
    words = [w for w in _WORD.findall(text.lower()) if w not in FUNCTION_WORDS]
    return sum(w in vocabulary for w in words) / len(words) if len(words) >= 6 else 0.0


def degeneracy(text: str, vocabulary: frozenset[str]) -> float:
    """0 for ordinary prose; grows with loops, word lists and value words stuffed in."""
    loop = max(0.0, 0.9 - distinct_bigrams(text)) * 8.0
    word_list = max(0.0, 0.25 - function_word_share(text)) * 6.0
    stuffed = max(0.0, vocabulary_share(text, vocabulary) - 0.22) * 4.0
    return loop + word_list + stuffed


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def recital_share(reply: str, instructions: str) -> float:
    """Share of the reply's trigrams found in the instructions, plus 0.5 for an instruction-style opening."""
    grams = _trigrams(reply)
    share = len(grams & _trigrams(instructions)) / len(grams) if grams else 0.0
    return min(1.0, share + (0.5 if _RECITAL_MARKERS.search(reply) else 0.0))


def mean_logprobs(model: Any, prompt: str, replies: Sequence[str], max_tokens: int = 256) -> np.ndarray:
    """Mean log-probability per reply token, given the prompt as a user turn (one batched forward pass).

    Side effect: holds the model's lock while it runs (~0.1 s per reply on two cores for SmolLM2).
    """
    torch, tokenizer = model.torch, model.tokenizer
    prefix = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=True, return_dict=False
    )
    prefix = list(prefix["input_ids"] if isinstance(prefix, dict) else prefix)[-max_tokens:]
    rows = [tokenizer(r, add_special_tokens=False)["input_ids"][:max_tokens] for r in replies]
    width = len(prefix) + max((len(r) for r in rows), default=0)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        sequence = prefix + row
        ids[i, : len(sequence)] = torch.tensor(sequence)
        mask[i, : len(sequence)] = 1
    # Only the reply positions go through the output layer: over a 49k-token vocabulary, the logits of
    # the prompt positions cost more than the whole decoder pass.
    hf = model.model
    out = np.full(len(rows), -20.0)  # an empty reply is the least fluent of all
    with model.lock, torch.inference_mode():
        hidden = hf.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
        head = hf.get_output_embeddings()
        for i, row in enumerate(rows):
            if row:
                start = len(prefix) - 1
                logits = head(hidden[i, start : start + len(row)]).float()
                picked = torch.log_softmax(logits, dim=-1).gather(-1, torch.tensor(row).unsqueeze(-1))
                out[i] = float(picked.mean())
    return out
