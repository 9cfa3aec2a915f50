"""Writing benchmark results: JSON with the environment it was measured on."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from valueprint import __version__

DEFAULT_RESULTS_DIR = Path("benchmarks/results")


def environment() -> dict[str, Any]:
    return {
        "valueprint": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_result(name: str, figures: dict[str, Any], out_dir: Path = DEFAULT_RESULTS_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps({**figures, "environment": environment()}, indent=2) + "\n")
    return path


def save_figure(fig: Any, path: Path) -> Path:
    """Lay out, write (PNG at 120 dpi) and close a matplotlib figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
