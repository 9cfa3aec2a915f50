"""A personal LoRA adapter trained by DPO (trl + peft) on the person's preference pairs, on the CPU.

The output is a standard PEFT adapter folder (`adapter_config.json`, `adapter_model.safetensors`)
plus `valueprint.json`: the profile hash, value-space version, data hash, base model, library
versions, seed and timings. Training is seeded and resumable: checkpoints go to
`<out>.checkpoints/` every `save_steps`, and a rerun continues from the newest one. A
person's training may start from their nearest persona's adapter (`init_adapter`); the DPO
reference is always the plain model (the adapter switched off).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from valueprint.errors import AdapterError
from valueprint.evaluate.backbone import require, resolve_precision
from valueprint.personalize.preferences import Pair, PreferenceData
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

ADAPTER_VERSION = "1"
META_FILE = "valueprint.json"
TARGET_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FinetuneConfig:
    steps: int = 80
    batch_size: int = 4
    learning_rate: float = 5e-4
    beta: float = 0.1
    lora_r: int = 8
    lora_alpha: int = 16
    max_length: int = 160
    seed: int = 17
    save_steps: int = 20


def profile_hash(profile: ValueProfile, space: ValueSpace) -> str:
    payload = json.dumps(
        {"means": profile.means(space).round(4).tolist(), "sds": profile.sds(space).round(4).tolist()}
    ).encode()
    return hashlib.sha256(payload).hexdigest()


def read_meta(adapter: Path) -> dict[str, Any]:
    try:
        return json.loads((adapter / META_FILE).read_text())
    except (OSError, ValueError) as error:
        # the message reaches the person: it names no folder of the server (the log has the cause)
        raise AdapterError("this adapter's description cannot be read: delete it and train it again") from error


def as_dataset(pairs: list[Pair]) -> Any:
    """Conversational DPO records, so the chat template frames prompt and replies as at serving time."""
    datasets = require("datasets")
    return datasets.Dataset.from_list(
        [
            {
                "prompt": [{"role": "user", "content": p.prompt}],
                "chosen": [{"role": "assistant", "content": p.chosen}],
                "rejected": [{"role": "assistant", "content": p.rejected}],
            }
            for p in pairs
        ]
    )


def _library_versions() -> dict[str, str]:
    return {name: require(name).__version__ for name in ("torch", "transformers", "peft", "trl")}


def _progress_callback(on_progress: Progress | None) -> Any:
    transformers = require("transformers")

    class Report(transformers.TrainerCallback):  # type: ignore[misc, name-defined]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if on_progress:  # step 0, or the checkpoint's step when resuming
                on_progress(state.global_step, state.max_steps)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if on_progress:
                on_progress(state.global_step, state.max_steps)

    return Report()


def _model(model_dir: Path, init_adapter: Path | None) -> Any:
    torch, transformers, peft = require("torch"), require("transformers"), require("peft")
    base = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    if init_adapter is None:
        return base
    return peft.PeftModel.from_pretrained(base, str(init_adapter), is_trainable=True)


def train_adapter(
    model_dir: Path,
    data: PreferenceData,
    out: Path,
    meta: dict[str, Any],
    config: FinetuneConfig | None = None,
    init_adapter: Path | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Train, then write the adapter folder at `out` atomically; returns its metadata."""
    config = config or FinetuneConfig()
    if not data.train:
        raise AdapterError("no preference pairs to learn from: the profile takes no side on any dimension")
    transformers, peft, trl = require("transformers"), require("peft"), require("trl")
    transformers.logging.set_verbosity_error()
    transformers.set_seed(config.seed)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = _model(model_dir, init_adapter)
    checkpoints = out.parent / f"{out.name}.checkpoints"
    args = trl.DPOConfig(
        output_dir=str(checkpoints),
        max_steps=config.steps,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        beta=config.beta,
        max_length=config.max_length,
        seed=config.seed,
        use_cpu=True,
        # trl defaults to bf16 and gradient checkpointing: bf16 only where the CPU has it natively (about
        # twice as fast there, far slower elsewhere); checkpointing recomputes the forward pass to save
        # memory a 135M model does not need.
        bf16=resolve_precision("auto") == "bf16",
        activation_checkpointing=False,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=1,
        logging_steps=config.save_steps,
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    lora = None
    if init_adapter is None:
        lora = peft.LoraConfig(
            r=config.lora_r, lora_alpha=config.lora_alpha, target_modules=TARGET_MODULES, task_type="CAUSAL_LM"
        )
    trainer = trl.DPOTrainer(
        model=model,
        args=args,
        train_dataset=as_dataset(data.train),
        processing_class=tokenizer,
        peft_config=lora,
        callbacks=[_progress_callback(on_progress)],
    )
    resume = any(checkpoints.glob("checkpoint-*"))
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=True if resume else None)
    seconds = time.perf_counter() - started
    full_meta = {
        **meta,
        "version": ADAPTER_VERSION,
        "data_sha256": data.digest(),
        "pairs": len(data.train),
        "heldout_pairs": len(data.heldout),
        "init_adapter": str(init_adapter) if init_adapter else None,
        "resumed": resume,
        "config": asdict(config),
        "libraries": _library_versions(),
        "train_seconds": round(seconds, 1),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _save(trainer.model, out, full_meta)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return full_meta


def _save(model: Any, out: Path, meta: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        model.save_pretrained(str(staging))
        (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
