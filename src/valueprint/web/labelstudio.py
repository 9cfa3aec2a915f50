"""Label Studio's ML backend protocol under /labelstudio: HTTP onto `valueprint.annotate.labelstudio_backend`.

In Label Studio: Settings → Model → Connect model, URL `https://<valueprint>/labelstudio`. With
`VALUEPRINT_LABELSTUDIO_BACKEND_KEY` set, turn on basic auth there (any user name, the key as password);
without it the backend answers anyone, so only the Label Studio server should be able to reach it.
Request bodies are logged nowhere (they carry task text and, from /setup, Label Studio's access token,
which is ignored).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from valueprint.annotate import labelstudio_backend as backend
from valueprint.errors import BasicAuthError
from valueprint.web.deps import ServicesDep

PREFIX = "/labelstudio"
MAX_BODY_BYTES = 8 * 1024 * 1024  # Label Studio sends tasks in batches (100 by default), each with its text


def backend_key(request: Request, s: ServicesDep) -> None:
    """HTTP basic auth with the backend key as password (any user name), when a key is set."""
    key = s.settings.labelstudio_backend_key
    if key is None:
        return
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        password = ""
    expected = key.get_secret_value().encode("utf-8")
    if scheme.lower() != "basic" or not hmac.compare_digest(password.encode("utf-8"), expected):
        raise BasicAuthError("the Label Studio backend needs basic auth with the backend key as password")


router = APIRouter(prefix=PREFIX, tags=["labelstudio"], dependencies=[Depends(backend_key)])


class Health(BaseModel):
    status: str = Field(description="`UP`.")
    model_class: str


class SetupRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    project: str | Annotated[int, Field(ge=0, le=2**63 - 1)] | None = Field(
        None, description="`<project id>.<created_at timestamp>`."
    )
    label_config: str = Field(alias="schema", description="The Label Studio project's labelling config (XML).")
    extra_params: Any = None


class Setup(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_version: str


class PredictRequest(BaseModel):
    tasks: list[dict[str, Any]] = Field(max_length=backend.MAX_TASKS, description="`{id, data: {...}}` each.")
    label_config: str = Field(description="The project's labelling config (XML).")
    project: str | Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    model_version: str | None = None
    params: dict[str, Any] | None = Field(None, description="`{context: ...}` (interactive labelling; unused).")


class Prediction(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    result: list[dict[str, Any]] = Field(description="`choices` results on `values` and `acceptability`.")
    score: float | None = Field(description="Calibrated chance that the whole suggestion is right.")
    model_version: str


class Predictions(BaseModel):
    results: list[Prediction] = Field(description="One per task, in the tasks' order.")


class WebhookAnswer(BaseModel):
    status: str
    detail: str


@router.get("/health")
@router.get("/", include_in_schema=False)
def health() -> Health:
    """Label Studio's connection check (loads nothing)."""
    return Health(status="UP", model_class=backend.MODEL_CLASS)


@router.post("/setup")
def setup(s: ServicesDep, body: SetupRequest) -> Setup:
    """Check the project's labelling config (422 naming what does not fit) and name the model version."""
    backend.read_config(body.label_config, s.model.space.ids)
    return Setup(model_version=s.prelabeller().model_version)


@router.post("/predict")
def predict(s: ServicesDep, body: PredictRequest) -> Predictions:
    """valueprint's calibrated pre-labels for Label Studio tasks (values with direction, acceptability)."""
    found = backend.predict(body.tasks, body.label_config, s.model.space.ids, s.prelabeller())
    return Predictions(results=[Prediction(**p) for p in found])


@router.post("/webhook")
def webhook(_: Annotated[dict[str, Any] | None, Body()] = None) -> WebhookAnswer:
    """Label Studio's annotation events: valueprint does not train from them (import Label Studio exports
    with `valueprint annotate import` to use the labels), so every event is acknowledged and ignored."""
    return WebhookAnswer(
        status="ignored",
        detail="valueprint does not train from Label Studio events; import labels with `valueprint annotate import`",
    )


@router.get("/versions")
def versions(s: ServicesDep) -> dict[str, list[str]]:
    """The model version predictions carry (one: the evaluator with its calibration)."""
    return {"versions": [s.prelabeller().model_version]}
