"""Machine pre-labels: calibrated suggestions with the model version, written by a job that reports progress
and resumes after a kill, shown to annotators as suggestions; calibration fitted on validation data only."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest

from tests.annotate_factories import LABELS, Clock, annotate_for, annotator, posts, project
from valueprint.annotate.jobs import AnnotateJobs, JobRequest, run_job
from valueprint.annotate.prelabel import (
    ORIGIN,
    Calibration,
    Prelabel,
    expected_calibration_error,
    fit_platt,
    fit_softmax,
    load_calibration,
    on_scale,
    softmax_rows,
    suggest,
)
from valueprint.annotate.prelabel_run import prelabel_project
from valueprint.annotate.schema import LabelSchema


class KeywordPrelabeller:
    """A test double for the evaluator: 'hit' violates care and is clearly wrong, anything else is neutral."""

    model_version = "keyword-double/1"
    seen: ClassVar[list[str]] = []

    def __init__(self, _request: object = None) -> None:
        pass

    def predict(self, texts, schema):
        type(self).seen += list(texts)
        return [
            Prelabel(
                {"values": {"care": -1} if "hit" in t else {}, "acceptability": 0 if "hit" in t else 2, "why": None},
                0.8,
                self.model_version,
            )
            for t in texts
        ]


class Killed(Exception):
    pass


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


@pytest.fixture
def curator_client(web_app, services, annotate):
    from fastapi.testclient import TestClient

    from valueprint.accounts.roles import Role

    created = services.accounts.create(role=Role.CURATOR)
    with TestClient(web_app) as browser:
        response = browser.post("/v1/session", json={"resume_code": created.resume_code})
        browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield browser


@pytest.fixture
def jobs(services, tmp_path):
    jobs = AnnotateJobs(
        tmp_path / "exports", services.settings.resolved_database_url, prelabeller_factory=KeywordPrelabeller
    )
    services.annotate_jobs = jobs
    yield jobs
    jobs.close()


def test_the_shipped_calibration_covers_every_learned_dimension_and_states_its_error() -> None:
    calibration = load_calibration()
    learned = {"self_direction", "stimulation", "hedonism", "achievement", "power", "security", "conformity"}
    learned |= {"tradition", "benevolence", "universalism", "care", "fairness", "loyalty", "authority", "sanctity"}
    assert set(calibration.presence) == learned
    report = calibration.report
    assert report["presence_ece"] < 0.05 and report["acceptability_ece"] < 0.1
    assert report["acceptability_within_one"] > 0.7
    assert "validation" in json.dumps(report["data"]) and "test" not in json.dumps(report["data"])


def test_platt_scaling_and_the_five_point_map_are_calibrated_on_synthetic_data() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * x - 0.5)))).astype(float)
    a, b = fit_platt(x, y)
    assert a == pytest.approx(2, abs=0.2) and b == pytest.approx(-0.5, abs=0.15)
    p = 1 / (1 + np.exp(-(a * x + b)))
    assert expected_calibration_error(np.maximum(p, 1 - p), (p >= 0.5) == (y == 1)) < 0.03
    points = np.clip(np.round(x + 1 + rng.normal(scale=0.5, size=4000)), 0, 2).astype(int)
    weights = np.array(fit_softmax(x, points, 3))
    probabilities = softmax_rows(x[:, None] * weights[:, 0] + weights[:, 1])
    top = probabilities.argmax(1)
    assert expected_calibration_error(probabilities.max(1), top == points) < 0.05


def test_an_overconfident_model_has_a_large_calibration_error() -> None:
    assert expected_calibration_error(np.full(100, 0.99), np.arange(100) < 50) == pytest.approx(0.49)
    assert expected_calibration_error(np.full(100, 0.5), np.arange(100) < 50) == pytest.approx(0.0)


def test_suggestions_name_present_values_with_direction_and_every_confidence() -> None:
    schema = LabelSchema(dimensions=("care", "fairness", "humour"))
    scores = {"care": np.array([-0.8, 0.1]), "fairness": np.array([0.6, 0.05])}
    presence = {"care": np.array([0.9, 0.2]), "fairness": np.array([0.7, 0.1])}
    points = np.array([[0.7, 0.2, 0.1, 0, 0], [0, 0.1, 0.2, 0.3, 0.4]])
    first, second = suggest(schema, ["care", "fairness", "power"], scores, presence, points, "m/1")
    assert first.labels["values"] == {"care": -1, "fairness": 1}  # humour is zero-shot: never suggested
    assert first.labels["acceptability"] == 0 and first.model_version == "m/1"
    assert first.labels["confidence"] == {"values": {"care": 0.9, "fairness": 0.7}, "acceptability": 0.7}
    assert Calibration("t", {}, [[0, 0]] * 3).acceptability_points(np.array([0.4]))[0].tolist() == pytest.approx(
        [0.3, 0.3, 0.4 / 3, 0.4 / 3, 0.4 / 3]
    )
    assert first.confidence == pytest.approx(0.9 * 0.7 * 0.7, abs=1e-4)  # the whole suggestion right
    assert second.labels["values"] == {} and second.labels["acceptability"] == 4


def test_a_three_point_scale_takes_each_of_the_five_points_at_its_nearest_point() -> None:
    points = np.array([[0.1, 0.2, 0.3, 0.15, 0.25]])
    assert on_scale(points, 3)[0].tolist() == pytest.approx([0.3, 0.45, 0.25])
    assert on_scale(points, 5) is points


def test_prelabels_reach_annotators_as_suggestions_with_model_and_confidence(services, annotate) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts(["He hit the dog.", "She baked bread."]), _fields(), "t")
    report = prelabel_project(services.db, pid, KeywordPrelabeller())
    assert report == {"done": 2, "total": 2, "written": 2, "model_version": "keyword-double/1"}
    task = annotate.next_unit(pid, annotator(services))
    [suggestion] = task.suggestions
    assert suggestion.origin == ORIGIN and suggestion.model_version == "keyword-double/1"
    assert suggestion.confidence == 0.8 and suggestion.labels["acceptability"] in (0, 2)


def test_the_job_reports_progress_and_a_second_run_skips_what_is_done(services, annotate, jobs) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts([f"Post number {i} about hit {i}." for i in range(7)]), _fields(), "t")
    started = jobs.prelabel(pid, batch=3)
    assert started["state"] == "queued" and started["engine"] == "in-process" and "out" not in started
    done = jobs.wait(started["job_id"], timeout=30)
    assert done["state"] == "done" and done["done"] == done["total"] == 7 and done["written"] == 7
    KeywordPrelabeller.seen = []
    again = jobs.wait(jobs.prelabel(pid)["job_id"], timeout=30)
    assert again["written"] == 0 and KeywordPrelabeller.seen == []


def test_a_killed_job_resumes_where_it_stopped(services, annotate, tmp_path) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts([f"Unit {i} is here." for i in range(10)]), _fields(), "t")
    calls = {"n": 0}

    class DiesOnThirdBatch(KeywordPrelabeller):
        def predict(self, texts, schema):
            calls["n"] += 1
            if calls["n"] == 3:
                raise Killed  # the process dies half-way: two batches of 3 are committed
            return super().predict(texts, schema)

    request = JobRequest("prelabel-x", "prelabel", pid, services.settings.resolved_database_url, batch=3)
    jobs = AnnotateJobs(tmp_path / "exports", request.database_url, prelabeller_factory=DiesOnThirdBatch)
    jobs.statuses.start("prelabel-x", "r1", state="queued")
    from dataclasses import replace

    with pytest.raises(Killed):
        run_job(replace(request, run_id="r1"), DiesOnThirdBatch)
    assert prelabel_project(services.db, pid, KeywordPrelabeller(), batch=100)["written"] == 4


def test_a_stale_running_status_from_a_dead_process_does_not_block_a_new_run(services, annotate, jobs) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts(["One post here."]), _fields(), "t")
    jobs.statuses.start(f"prelabel-{pid}", "dead", state="running")
    assert jobs.wait(jobs.prelabel(pid)["job_id"], timeout=30)["state"] == "done"


def test_cancelling_stops_the_job_at_its_next_batch(services, annotate, tmp_path) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts([f"Text {i} in a post." for i in range(6)]), _fields(), "t")
    holder = {}

    class CancelsAfterFirst(KeywordPrelabeller):
        def predict(self, texts, schema):
            out = super().predict(texts, schema)
            holder["jobs"].cancel(f"prelabel-{pid}")
            return out

    jobs = AnnotateJobs(
        tmp_path / "exports", services.settings.resolved_database_url, prelabeller_factory=CancelsAfterFirst
    )
    holder["jobs"] = jobs
    final = jobs.wait(jobs.prelabel(pid, batch=2)["job_id"], timeout=30)
    assert final["state"] == "cancelled"
    assert prelabel_project(services.db, pid, KeywordPrelabeller())["written"] == 4  # the first batch stays
    jobs.close()


def test_curators_start_and_follow_a_prelabel_job_over_http(services, annotate, jobs, curator_client) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts(["Someone hit me.", "A calm day."]), _fields(), "t")
    started = curator_client.post(f"/v1/annotate/projects/{pid}/prelabel", json={"batch": 1})
    assert started.status_code == 202, started.text
    jobs.wait(started.json()["job_id"], timeout=30)
    status = curator_client.get(f"/v1/annotate/jobs/{started.json()['job_id']}").json()
    assert status["state"] == "done" and status["done"] == 2 and status["kind"] == "prelabel"
    assert curator_client.get("/v1/annotate/jobs/nope").json()["error"]["code"] == "not_found"


def test_labels_given_after_a_suggestion_are_the_annotators_own(services, annotate) -> None:
    pid = project(annotate)
    annotate.import_items(pid, posts(["He hit the dog."]), _fields(), "t")
    prelabel_project(services.db, pid, KeywordPrelabeller())
    person = annotator(services)
    task = annotate.next_unit(pid, person)
    services.annotate_unit(pid, task.unit_id, person, LABELS)
    [line] = [json.loads(x) for x in annotate.export_jsonl(pid)]
    assert line["annotations"][0]["values"] == LABELS["values"]
    assert line["prelabels"][0]["origin"] == ORIGIN and line["prelabels"][0]["values"] == {"care": -1}


def _fields():
    from valueprint.annotate.readers import Fields

    return Fields()


@pytest.mark.slow
def test_the_evaluator_prelabeller_suggests_from_the_real_model() -> None:
    from valueprint.annotate.prelabel import evaluator_prelabeller

    prelabeller = evaluator_prelabeller()
    schema = LabelSchema(dimensions=("care", "benevolence", "humour"))
    cruel, kind = prelabeller.predict(
        ["I kicked my neighbour's dog for fun.", "I helped my friend move house."], schema
    )
    assert "+calibration/" in cruel.model_version
    assert cruel.labels["acceptability"] < 2 <= kind.labels["acceptability"]
    assert set(cruel.labels["confidence"]["values"]) == {"care", "benevolence"}
    assert 0 < cruel.confidence < 1
