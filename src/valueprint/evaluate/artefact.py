"""The evaluator's trained artefact: a folder small enough to ship inside the package.

    meta.json               version stamp, training config, data hashes, library versions,
                            decision thresholds, zero-shot calibration, validation figures
    adapter/                the PEFT LoRA adapter for MiniLM (merged into the weights on load)
    arrays.safetensors      head weight and bias, the base-embedding reconstruction, the
                            zero-shot pole embeddings

`ARTEFACT_VERSION` changes whenever the format or the meaning of an output changes; an
artefact of another version, or trained for another value-space version, is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from valueprint.errors import EvaluatorError

ARTEFACT_VERSION = "1"
META = "meta.json"
ARRAYS = "arrays.safetensors"
ADAPTER = "adapter"


def packaged_artefact_dir() -> Path:
    return Path(str(resources.files("valueprint.evaluate") / "artefact"))


@dataclass(frozen=True)
class Artefact:
    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def adapter_dir(self) -> Path:
        return self.path / ADAPTER


def data_fingerprint(texts: list[str], labels: np.ndarray) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    digest.update(np.ascontiguousarray(labels, dtype=np.float32).tobytes())
    return digest.hexdigest()[:16]


def save(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray], network_encoder: Any) -> None:
    """Write the artefact next to `path` and swap it in, so a crash never leaves half an artefact."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".evaluator-", dir=path.parent))
    network_encoder.save_pretrained(str(staging / ADAPTER))
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}, str(staging / ARRAYS))
    (staging / META).write_text(json.dumps({**meta, "artefact_version": ARTEFACT_VERSION}, indent=2) + "\n")
    if path.exists():
        retired = path.with_name(path.name + ".old")
        if retired.exists():
            _remove_tree(retired)
        os.replace(path, retired)
        os.replace(staging, path)
        _remove_tree(retired)
    else:
        os.replace(staging, path)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def load(path: Path, space_version: str) -> Artefact:
    if not (path / META).is_file():
        raise EvaluatorError(
            f"no evaluator artefact at {path}: run `valueprint evaluator train` or unset VALUEPRINT_EVALUATOR_DIR"
        )
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except ValueError as error:
        raise EvaluatorError(
            f"{path / META} is not valid JSON ({error}); retrain with `valueprint evaluator train`"
        ) from error
    if meta.get("artefact_version") != ARTEFACT_VERSION:
        raise EvaluatorError(
            f"the evaluator at {path} has format {meta.get('artefact_version')!r}, this valueprint reads "
            f"{ARTEFACT_VERSION!r}: retrain with `valueprint evaluator train`"
        )
    if meta.get("space_version") != space_version:
        raise EvaluatorError(
            f"the evaluator at {path} was trained for value space {meta.get('space_version')!r}, not "
            f"{space_version!r}: retrain with `valueprint evaluator train`"
        )
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        arrays = load_file(str(path / ARRAYS))
    except (OSError, ValueError, SafetensorError) as error:
        raise EvaluatorError(
            f"cannot read {path / ARRAYS}: {error}; retrain with `valueprint evaluator train`"
        ) from error
    return Artefact(path, meta, arrays)
