"""Runs one import job in a process of its own, so that a test can kill the process half-way.

`python -m tests.annotate_import_worker '<JobRequest as JSON>'`: the job's sealer comes from this process's
settings (VALUEPRINT_DATA_DIR), as on a Dask worker; the sanitiser is a slow test double.
"""

from __future__ import annotations

import json
import sys
import time

from tests.annotate_factories import EmailOnlySanitiser
from valueprint.annotate.jobs import JobRequest, run_job


class SlowSanitiser(EmailOnlySanitiser):
    """The e-mail double, slowed down so that a test can kill the job between two chunks."""

    def sanitise(self, text: str):
        time.sleep(0.05)
        return super().sanitise(text)


if __name__ == "__main__":
    run_job(JobRequest(**json.loads(sys.argv[1])), sanitiser_factory=SlowSanitiser)
