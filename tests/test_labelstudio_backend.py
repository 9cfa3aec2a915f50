"""valueprint as a Label Studio ML backend (/labelstudio): Label Studio's own requests get our calibrated
pre-labels as `choices` results it shows unchanged; configs that do not fit are refused, not silently
mis-served; the config is untrusted XML; task text is never logged.

Request shapes are copied from HumanSignal/label-studio-ml-backend: `tests/test_api.py` (health, setup,
predict, webhook), `tests/test_basic.py` (setup with `hostname` and `access_token`),
`label_studio_ml/api.py` (the predict docstring: tasks, model_version, project, label_config, params) and
`label_studio_ml/examples/bert_classifier/test_api.py` (a text task); Label Studio's server reads
`response["results"]`, one per task (label_studio/ml/models.py).
"""

from __future__ import annotations

import base64
import logging

import pytest
from fastapi.testclient import TestClient

from valueprint.annotate.labelstudio import from_results, label_config
from valueprint.annotate.labelstudio_backend import read_config
from valueprint.annotate.prelabel import Prelabel
from valueprint.annotate.schema import LabelSchema

SCHEMA = LabelSchema(dimensions=("care", "fairness"), custom_labels=("sarcasm",))
CONFIG = label_config(SCHEMA)
SECRET_TEXT = "Ada Lovelace hit her cat on 12 Elm Street."


class HitPrelabeller:
    """A test double for the evaluator: 'hit' violates care and is clearly wrong, anything else neutral."""

    model_version = "hit-double/1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict(self, texts, schema):
        self.seen += list(texts)
        return [
            Prelabel(
                {
                    "values": {"care": -1} if "hit" in t else {},
                    "acceptability": 0 if "hit" in t else 2,
                    "why": None,
                    "custom": [],
                    "confidence": {"values": {"care": 0.9}, "acceptability": 0.7},
                },
                0.63,
                self.model_version,
            )
            for t in texts
        ]


@pytest.fixture
def prelabeller(services) -> HitPrelabeller:
    services.annotate_prelabeller = HitPrelabeller()
    return services.annotate_prelabeller


@pytest.fixture
def ls(web_app, prelabeller):
    with TestClient(web_app) as client:
        yield client


def predict_request(tasks, config=CONFIG):
    # label_studio_ml/api.py, _predict's docstring: the request Label Studio sends
    return {
        "tasks": tasks,
        "model_version": "",
        "project": "7.1700000000",
        "label_config": config,
        "params": {"login": None, "password": None, "context": None},
    }


def test_health_answers_label_studios_connection_check(ls) -> None:
    for path in ("/labelstudio/health", "/labelstudio/"):
        response = ls.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "UP", "model_class": "ValueprintPrelabeller"}


def test_setup_accepts_our_config_and_names_the_model_version(ls) -> None:
    # tests/test_basic.py: Label Studio also sends its hostname and the project owner's access token
    body = {"project": "1.1654592272", "schema": CONFIG, "hostname": "http://localhost:8080"}
    body |= {"access_token": "1234567890123456789012345678901234567890", "extra_params": {}}
    response = ls.post("/labelstudio/setup", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"model_version": "hit-double/1"}


def test_setup_refuses_a_config_without_our_controls_saying_what_is_missing(ls) -> None:
    # tests/test_basic.py's sentiment config: nothing valueprint could fill in
    sentiment = (
        '<View><Text name="text" value="$transcript"/><View style="padding: 20px;"><Header value="Choose text '
        'sentiment"/><Choices name="sentiment" toName="text" choice="single" showInLine="true"><Choice '
        'value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices></View></View>'
    )
    response = ls.post("/labelstudio/setup", json={"project": "1.1654592272", "schema": sentiment})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_label_config"
    assert '<Choices name="values">' in error["message"] and "valueprint annotate label-config" in error["message"]


def test_predict_answers_one_prediction_per_task_in_order_as_label_studio_results(ls, prelabeller) -> None:
    tasks = [
        {"id": 11, "data": {"text": "He hit the dog."}, "meta": {}, "annotations": [], "predictions": []},
        {"id": 12, "data": {"text": "She shared her lunch."}},
        {"id": 13, "data": {"text": "   "}},
    ]
    response = ls.post("/labelstudio/predict", json=predict_request(tasks))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 3
    hit, shared, blank = results
    assert hit == {
        "result": [
            {"from_name": "values", "to_name": "text", "type": "choices", "value": {"choices": ["care:-"]}},
            {
                "from_name": "acceptability",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["clearly wrong"]},
            },
        ],
        "score": 0.63,
        "model_version": "hit-double/1",
    }
    assert shared["result"] == [
        {"from_name": "acceptability", "to_name": "text", "type": "choices", "value": {"choices": ["neutral"]}}
    ]
    assert blank == {"result": [], "score": 0.0, "model_version": "hit-double/1"}
    assert prelabeller.seen == ["He hit the dog.", "She shared her lunch."]  # a blank text is not sent


def test_predictions_read_back_as_the_suggested_labels(ls) -> None:
    response = ls.post("/labelstudio/predict", json=predict_request([{"id": 1, "data": {"text": "They hit him."}}]))
    labels = from_results(response.json()["results"][0]["result"], SCHEMA)
    assert labels == {"values": {"care": -1}, "acceptability": 0, "why": None, "custom": []}


def test_a_config_with_another_text_field_and_tag_name_is_followed(ls) -> None:
    # bert_classifier/test_api.py's task shape, with the Text tag renamed and another data field
    config = CONFIG.replace('name="text" value="$text"', 'name="post" value="$body"').replace(
        'toName="text"', 'toName="post"'
    )
    response = ls.post("/labelstudio/predict", json=predict_request([{"data": {"body": "I hit a wall."}}], config))
    assert response.status_code == 200, response.text
    assert {r["to_name"] for r in response.json()["results"][0]["result"]} == {"post"}


@pytest.mark.parametrize(
    ("config", "says"),
    [
        (CONFIG.replace('"care:-"', '"care:?"'), "'care:?' is not 'dimension:+' or 'dimension:-'"),
        (CONFIG.replace('"care:-"', '"lunch:-"'), "'lunch' is not a value dimension"),
        (CONFIG.replace('<Choice value="care:-"/>', ""), "'care:-' is missing"),
        (CONFIG.replace('name="acceptability"', 'name="rating"'), '<Choices name="acceptability">'),
        (CONFIG.replace('value="$text"', 'value="text"'), 'value="$field"'),
        ("<View><Text", "not well-formed XML"),
        ("", "the label config is missing"),
    ],
)
def test_configs_that_do_not_fit_are_refused_with_the_reason(ls, config, says) -> None:
    response = ls.post("/labelstudio/predict", json=predict_request([{"id": 1, "data": {"text": "x"}}], config))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_label_config"
    assert says in response.json()["error"]["message"]


def test_a_config_declaring_entities_is_refused_before_parsing(ls) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<View><Text name='text' value='$text'/><Header value='&lol2;'/></View>"
    )
    external = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><View>&e;</View>'
    for config in (laughs, external):
        response = ls.post("/labelstudio/setup", json={"project": "1.1", "schema": config})
        assert response.status_code == 422
        assert "DTD or entities" in response.json()["error"]["message"]


def test_a_task_without_the_text_field_is_named_without_its_content(ls) -> None:
    tasks = [{"id": 5, "data": {"text": SECRET_TEXT}}, {"id": 6, "data": {"other": SECRET_TEXT}}]
    response = ls.post("/labelstudio/predict", json=predict_request(tasks))
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "task 6 has no text in data.text" in message and "Lovelace" not in message


def test_task_text_is_never_logged(ls, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    ok = [{"id": 1, "data": {"text": SECRET_TEXT}}]
    assert ls.post("/labelstudio/predict", json=predict_request(ok)).status_code == 200
    bad = [{"id": 2, "data": {"text": SECRET_TEXT}}, {"id": 3, "data": {}}]
    assert ls.post("/labelstudio/predict", json=predict_request(bad)).status_code == 422
    assert ls.post("/labelstudio/predict", json={"tasks": [{"data": {"text": SECRET_TEXT}}]}).status_code == 422
    assert "Lovelace" not in caplog.text and "Elm Street" not in caplog.text


def test_a_batch_of_a_hundred_tasks_fits_though_larger_than_the_apis_body_limit(ls) -> None:
    tasks = [{"id": i, "data": {"text": f"Task {i} where someone hit a ball. " * 30}} for i in range(100)]
    response = ls.post("/labelstudio/predict", json=predict_request(tasks))
    assert response.status_code == 200, response.text
    assert len(response.json()["results"]) == 100
    assert [r["result"][0]["value"]["choices"] for r in response.json()["results"][:2]] == [["care:-"]] * 2


def test_the_webhook_acknowledges_label_studio_events_and_trains_nothing(ls, prelabeller) -> None:
    # tests/test_api.py's webhook request
    event = {"action": "ANNOTATION_CREATED", "project": {"id": 1, "label_config": "<View></View>"}}
    response = ls.post("/labelstudio/webhook", json=event)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert prelabeller.seen == []


def test_with_a_backend_key_label_studio_must_send_it_as_basic_auth(tmp_path, prelabeller) -> None:
    from valueprint.settings import Settings
    from valueprint.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path / "keyed", environment="test", labelstudio_backend_key="s3cret"))
    app.state.services.annotate_prelabeller = prelabeller

    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    with TestClient(app) as client:
        refused = client.get("/labelstudio/health")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        assert client.get("/labelstudio/health", headers=basic("ls", "wrong")).status_code == 401
        assert client.get("/labelstudio/health", headers={"Authorization": "Basic %%%"}).status_code == 401
        assert client.get("/labelstudio/health", headers=basic("ls", "s3cret")).status_code == 200
        body = predict_request([{"id": 1, "data": {"text": "hit"}}])
        assert client.post("/labelstudio/predict", json=body).status_code == 401
        assert client.post("/labelstudio/predict", json=body, headers=basic("any", "s3cret")).status_code == 200


def test_the_config_valueprint_writes_reads_back_as_its_schema() -> None:
    from valueprint.values.model import default_model

    ids = default_model().space.ids
    for schema in (
        SCHEMA,
        LabelSchema(dimensions=ids, why=False),
        LabelSchema(dimensions=("care",), scale=("no", "yes")),
    ):
        project = read_config(label_config(schema), ids)
        assert project.schema == schema and (project.to_name, project.text_field) == ("text", "text")
