"""The annotation API and CLI: curators only where it matters, one error format, streamed exports that
Label Studio reads, and the round trip export -> import giving the same labels."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.annotate_factories import (
    LABELS,
    Clock,
    EmailOnlySanitiser,
    annotate_for,
    annotator,
    annotator_account,
    posts,
)
from valueprint.accounts.roles import Role
from valueprint.annotate.readers import Fields


def signed_in(web_app, participant_id_and_code) -> TestClient:
    browser = TestClient(web_app)
    response = browser.post("/v1/session", json={"resume_code": participant_id_and_code.resume_code})
    assert response.status_code == 200, response.text
    browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return browser


@pytest.fixture
def annotate(services):
    return annotate_for(services, Clock())


@pytest.fixture
def curator(web_app, services, annotate) -> Iterator[TestClient]:
    with signed_in(web_app, services.accounts.create(role=Role.CURATOR)) as browser:
        yield browser


def make_project(curator: TestClient, **fields) -> str:
    body = {"name": "API project", "segmentation": "posts", "overlap": 2} | fields
    response = curator.post("/v1/annotate/projects", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_curators_create_and_import_participants_may_not(curator, participant_client) -> None:
    pid = make_project(curator, label_schema={"dimensions": ["care", "fairness"]})
    refused = participant_client.post("/v1/annotate/projects", json={"name": "mine"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    body = {"items": posts(["Mail x@y.org now please", "Another post here."]), "source": "test"}
    imported = curator.post(f"/v1/annotate/projects/{pid}/documents", json=body)
    assert imported.status_code == 201, imported.text
    assert imported.json() | {} == {"documents": 2, "units": 2, "duplicates": 0, "prelabels": 0, "entities": 1}
    bad = curator.post(f"/v1/annotate/projects/{pid}/documents", json={"items": [{"text": "no licence"}]})
    assert bad.status_code == 400 and "document 1: no licence" in bad.json()["error"]["message"]
    assert participant_client.post(f"/v1/annotate/projects/{pid}/documents", json=body).status_code == 403


def test_an_annotator_labels_skips_undoes_and_flags_over_http(web_app, services, curator) -> None:
    pid = make_project(curator)
    texts = ["He shared his lunch.", "She lied to her boss.", "They stole a bike."]
    curator.post(f"/v1/annotate/projects/{pid}/documents", json={"items": posts(texts)})
    with signed_in(web_app, annotator_account(services)) as browser:
        unit = browser.post(f"/v1/annotate/projects/{pid}/next").json()["unit"]
        done = browser.post(f"/v1/annotate/projects/{pid}/units/{unit['unit_id']}/labels", json=LABELS)
        assert done.status_code == 200, done.text
        bad = browser.post(f"/v1/annotate/projects/{pid}/units/{unit['unit_id']}/labels", json=LABELS)
        assert bad.status_code == 409 and bad.json()["error"]["code"] == "conflict"
        second = browser.post(f"/v1/annotate/projects/{pid}/next").json()["unit"]
        wrong = browser.post(
            f"/v1/annotate/projects/{pid}/units/{second['unit_id']}/labels", json={"values": {"nope": 1}}
        )
        assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_labels"
        assert browser.post(f"/v1/annotate/projects/{pid}/units/{second['unit_id']}/skip").json()["skipped"]
        undone = {"unit_id": second["unit_id"], "skipped": True, "labels": None}
        assert browser.post(f"/v1/annotate/projects/{pid}/undo").json() == undone
        flagged = browser.post(f"/v1/annotate/projects/{pid}/units/{second['unit_id']}/flag", json={"reason": "a name"})
        assert flagged.status_code == 204
        assert browser.get(f"/v1/annotate/projects/{pid}/flagged").status_code == 403
    listed = curator.get(f"/v1/annotate/projects/{pid}/flagged").json()
    assert [u["unit_id"] for u in listed] == [second["unit_id"]]
    assert curator.get(f"/v1/annotate/projects/{pid}/units/{second['unit_id']}/raw").json()["raw"] == second["text"]
    fixed = curator.put(f"/v1/annotate/projects/{pid}/units/{second['unit_id']}/text", json={"text": "Fixed."})
    assert fixed.status_code == 204
    assert curator.get(f"/v1/annotate/projects/{pid}/flagged").json() == []


def test_exports_stream_jsonl_with_aggregates_and_label_studio_round_trips(services, annotate, curator) -> None:
    pid = make_project(curator, label_schema={"dimensions": ["care", "fairness"], "custom_labels": ["sarcasm"]})
    annotate.import_items(pid, posts(["He pushed the child.", "She thanked the nurse."]), Fields(), "t")
    people = [annotator(services) for _ in range(2)]
    given = [
        {"values": {"care": -1}, "acceptability": 0, "why": "hurts", "custom": []},
        {"values": {"care": -1, "fairness": 1}, "acceptability": 1, "why": None, "custom": ["sarcasm"]},
    ]
    for person, labels in zip(people, given, strict=True):
        for _ in range(2):
            unit = annotate.next_unit(pid, person)
            services.annotate_unit(pid, unit.unit_id, person, labels)
    response = curator.get(f"/v1/annotate/projects/{pid}/export.jsonl")
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == 2 and {a["annotator"] for a in lines[0]["annotations"]} == set(people)
    assert lines[0]["aggregate"] == {"n": 2, "values": {"care": -1}, "acceptability": 0, "custom": []}
    assert lines[0]["document"]["licence"] == "CC-BY-4.0" and lines[0]["annotations"][0]["profile"]["answered"]

    exported = curator.get(f"/v1/annotate/projects/{pid}/export.labelstudio.json").json()
    assert [len(task["annotations"]) for task in exported] == [2, 2]
    config = curator.get(f"/v1/annotate/projects/{pid}/labelstudio-config").text
    assert '<Choices name="values"' in config and 'value="care:-"' in config
    again = annotate.create_project(
        None,
        {
            "name": "round trip",
            "segmentation": "posts",
            "label_schema": {"dimensions": ["care", "fairness"], "custom_labels": ["sarcasm"]},
        },
    ).id
    assert annotate.import_labelstudio(again, exported, Fields(), "ls.json").prelabels == 4
    back = [json.loads(line) for line in annotate.export_jsonl(again)]

    def canonical(labels: dict) -> str:
        return json.dumps({k: labels[k] for k in ("values", "acceptability", "why", "custom")}, sort_keys=True)

    assert [sorted(canonical(p) for p in line["prelabels"]) for line in back] == [sorted(map(canonical, given))] * 2


def test_a_missing_project_is_a_404_in_the_one_error_format(curator) -> None:
    for path in ("", "/export.jsonl", "/export.labelstudio.json"):
        response = curator.get(f"/v1/annotate/projects/nope{path}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_cli_creates_imports_and_exports(tmp_path, monkeypatch) -> None:
    from valueprint.cli import app

    monkeypatch.setenv("VALUEPRINT_ENVIRONMENT", "test")
    monkeypatch.setattr("valueprint.annotate.service.load_sanitiser", EmailOnlySanitiser)
    runner = CliRunner()
    created = runner.invoke(app, ["annotate", "create", "cli project", "--segmentation", "sentences", "--overlap", "2"])
    assert created.exit_code == 0, created.output
    (tmp_path / "a.txt").write_text("One thing. Another thing!\n", encoding="utf-8")
    imported = runner.invoke(app, ["annotate", "import", "cli project", str(tmp_path / "a.txt"), "--licence", "MIT"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["units"] == 2
    missing = runner.invoke(app, ["annotate", "import", "cli project", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    out = tmp_path / "out.jsonl"
    exported = runner.invoke(app, ["annotate", "export", "cli project", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["text"] for line in out.read_text().splitlines()] == ["One thing.", "Another thing!"]


def test_the_cli_prelabels_with_a_progress_bar_and_prints_the_final_status(tmp_path, monkeypatch) -> None:
    from tests.test_annotate_prelabel import KeywordPrelabeller
    from valueprint.cli import app

    monkeypatch.setenv("VALUEPRINT_ENVIRONMENT", "test")
    monkeypatch.setattr("valueprint.annotate.service.load_sanitiser", EmailOnlySanitiser)
    monkeypatch.setattr("valueprint.annotate.prelabel.evaluator_prelabeller", lambda *_: KeywordPrelabeller())
    runner = CliRunner()
    assert runner.invoke(app, ["annotate", "create", "bar project", "--segmentation", "sentences"]).exit_code == 0
    (tmp_path / "a.txt").write_text("He hit me. She helped. They waved.\n", encoding="utf-8")
    assert (
        runner.invoke(app, ["annotate", "import", "bar project", str(tmp_path / "a.txt"), "--licence", "MIT"]).exit_code
        == 0
    )
    result = runner.invoke(app, ["annotate", "prelabel", "bar project", "--batch", "1"])
    assert result.exit_code == 0, result.output
    final = json.loads(result.stdout.strip().splitlines()[-1])  # the bar goes to standard error
    assert final["state"] == "done" and final["done"] == final["total"] == 3
    assert "3/3" in result.stderr


def test_deleting_an_annotator_deletes_the_export_files_that_hold_their_labels(
    web_app, services, annotate, curator
) -> None:
    pid = make_project(curator, overlap=1)
    untouched = make_project(curator, name="Nobody from the leaver labelled here", overlap=1)
    for project_id in (pid, untouched):
        annotate.import_items(project_id, posts(["He shared his lunch."]), Fields(), "t")
    leaver = annotator_account(services)
    unit = annotate.next_unit(pid, leaver.id)
    services.annotate_unit(pid, unit.unit_id, leaver.id, LABELS | {"why": "my own reasons"})
    jobs = services.annotate_jobs
    finished = {}
    for project_id, fmt in ((pid, "jsonl"), (pid, "dpo"), (pid, "hf"), (untouched, "jsonl")):
        started = curator.post(f"/v1/annotate/projects/{project_id}/exports", json={"format": fmt}).json()
        finished[project_id, fmt] = jobs.wait(started["job_id"], timeout=60)["job_id"]
    download = f"/v1/annotate/jobs/{finished[pid, 'jsonl']}/file"
    assert leaver.id in curator.get(download).text
    files = {key: jobs.output(job_id) for key, job_id in finished.items()}

    services.delete_participant(leaver.id)

    assert curator.get(download).status_code == 404
    for (project_id, _), job_id in finished.items():
        gone = project_id == pid
        assert files[project_id, _].exists() is not gone
        assert (curator.get(f"/v1/annotate/jobs/{job_id}").status_code == 404) is gone
    assert not any(leaver.id in path.read_text() for path in files[untouched, "jsonl"].parent.glob("*.jsonl"))
