"""Where personal and persona adapters live, and how the one local model swaps between them.

    DATA_DIR/adapters/people/<participant id>/     a person's adapter (PEFT folder + valueprint.json)
    DATA_DIR/adapters/personas/<persona id>/       an exemplar persona's adapter

Serving keeps up to `capacity` adapters loaded into the model (transformers' PEFT integration)
and activates one per request, evicting the least recently used. Activation happens inside the
model's lock (the engine enters strategy hooks there), so a request never sees another's adapter;
afterwards the adapters are switched off, so plain requests get the plain model.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from valueprint.personalize.jobs import discard_output
from valueprint.personalize.runtime import LocalModel
from valueprint.values.personas import Persona, load_personas, persona_distances
from valueprint.values.profile import ValueProfile
from valueprint.values.space import ValueSpace

ADAPTER_CONFIG = "adapter_config.json"


def adapters_root(data_dir: Path) -> Path:
    return data_dir / "adapters"


class AdapterStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def person(self, participant_id: str) -> Path:
        return self.root / "people" / participant_id

    def persona(self, persona_id: str) -> Path:
        return self.root / "personas" / persona_id

    @staticmethod
    def exists(path: Path) -> bool:
        return (path / ADAPTER_CONFIG).is_file()

    def delete_person(self, participant_id: str) -> None:
        """The adapter and any unfinished checkpoints (files only: a job still training for them stops once
        its record is gone, see `Personalizer.delete_adapter` and the "jobs" data duty)."""
        discard_output(self.person(participant_id))

    def nearest_persona_adapter(self, profile: ValueProfile, space: ValueSpace) -> tuple[Persona, Path] | None:
        """The nearest persona that has an adapter: where a person's training starts."""
        personas = load_personas()
        distances = persona_distances(profile, personas, space)
        for i in distances.argsort():
            path = self.persona(personas[i].id)
            if self.exists(path):
                return personas[i], path
        return None


class AdapterCache:
    """Adapters loaded into the local model, least recently used evicted first."""

    def __init__(self, model: LocalModel, capacity: int = 4) -> None:
        self.model, self.capacity = model, capacity
        self.loaded: OrderedDict[str, str] = OrderedDict()  # adapter name -> folder

    @staticmethod
    def name_for(path: Path) -> str:
        """Changes when the adapter is retrained, so a stale copy is never served."""
        stamp = (path / ADAPTER_CONFIG).stat().st_mtime_ns
        return "a" + hashlib.sha256(f"{path.resolve()}:{stamp}".encode()).hexdigest()[:16]

    def _load(self, path: Path) -> str:
        name = self.name_for(path)
        if name in self.loaded:
            self.loaded.move_to_end(name)
            return name
        while len(self.loaded) >= self.capacity:
            old, _ = self.loaded.popitem(last=False)
            self.model.model.delete_adapter(old)
        self.model.model.load_adapter(str(path), adapter_name=name)
        self.loaded[name] = str(path)
        return name

    @contextmanager
    def activate(self, path: Path) -> Iterator[None]:
        """Enter with the model's lock held (strategy hooks are)."""
        name = self._load(path)
        self.model.model.set_adapter(name)
        self.model.model.enable_adapters()
        try:
            yield
        finally:
            self.model.model.disable_adapters()


_caches: weakref.WeakKeyDictionary[LocalModel, AdapterCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(model: LocalModel, capacity: int = 4) -> AdapterCache:
    """The model's one adapter cache (the model is shared by every app in the process)."""
    with _caches_lock:
        if model not in _caches:
            _caches[model] = AdapterCache(model, capacity)
        return _caches[model]
