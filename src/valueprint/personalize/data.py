"""The personalisation domain's data duty: a person's adapter, its checkpoints and job records (files only)."""

from __future__ import annotations

from pathlib import Path

from valueprint.personalize.adapters import AdapterStore, adapters_root
from valueprint.store.duties import DataDuty, register


def _erase_adapter(data_dir: Path, participant_id: str) -> None:
    AdapterStore(adapters_root(data_dir)).delete_person(participant_id)


register(DataDuty("adapter", erase_files=_erase_adapter))
