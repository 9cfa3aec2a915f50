"""The annotation queue on PostgreSQL: migration 0006 applies, and annotators asking at once from many
threads never share a unit beyond its overlap (row locks, SKIP LOCKED)."""

from __future__ import annotations

import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.annotate_factories import LABELS, Clock, annotate_for, annotator, posts, project
from tests.pg import PostgresCluster
from valueprint.annotate.readers import Fields
from valueprint.settings import Settings


@pytest.fixture
def pg_services(pg_cluster: PostgresCluster, tmp_path):
    from valueprint.services import Services

    url = pg_cluster.create_database("vp_" + secrets.token_hex(6))
    return Services.build(Settings(data_dir=tmp_path / "pg", environment="test", database_url=url))


def test_concurrent_annotators_never_exceed_the_overlap(pg_services) -> None:
    annotate = annotate_for(pg_services, Clock())
    pid = project(annotate, overlap=2)
    annotate.import_items(
        pid, posts([f"Post {i}: a distinct thing number {i * 104729}." for i in range(6)]), Fields(), "t"
    )
    people = [annotator(pg_services) for _ in range(8)]

    def work(person: str) -> list[int]:
        labelled = []
        while (unit := annotate.next_unit(pid, person)) is not None:
            pg_services.annotate_unit(pid, unit.unit_id, person, LABELS)
            labelled.append(unit.unit_id)
        return labelled

    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(work, people))
    counts = Counter(unit for labelled in done for unit in labelled)
    assert len(counts) == 6 and set(counts.values()) == {2}
    assert all(len(set(labelled)) == len(labelled) for labelled in done)
