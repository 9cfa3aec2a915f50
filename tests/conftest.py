"""Shared fixtures: the packaged catalogue and model, an isolated data directory, keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from valueprint.settings import load_settings
from valueprint.tokens.keys import KeyStore, SigningKey
from valueprint.values.bank import QuestionBank, load_bank
from valueprint.values.model import default_model
from valueprint.values.scoring import ScoringModel
from valueprint.values.space import ValueSpace, load_space

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """`app` served by a real uvicorn on a free loopback port, in a daemon thread; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL server for the whole test session (tests.pg); each test makes its own database."""
    from tests.pg import ClusterError, PostgresCluster

    cluster = PostgresCluster()
    try:
        cluster.start()
    except ClusterError as error:
        cluster.stop()
        pytest.fail(f"could not start the test PostgreSQL cluster: {error}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def space() -> ValueSpace:
    return load_space()


@pytest.fixture(scope="session")
def bank() -> QuestionBank:
    return load_bank()


@pytest.fixture(scope="session")
def model() -> ScoringModel:
    return default_model()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data sets are expected at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def evaluator():
    """The evaluator shipped in the package (the real trained artefact)."""
    from valueprint.evaluate.evaluator import ValueEvaluator

    return ValueEvaluator()


@pytest.fixture(scope="session")
def tiny_evaluator_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """An evaluator artefact trained for one short epoch on 32 examples per task (~40 s): for the pipeline."""
    from valueprint.evaluate.build import train_evaluator
    from valueprint.evaluate.train import TrainConfig

    out = tmp_path_factory.mktemp("evaluator") / "artefact"
    train_evaluator(shared_data, out, TrainConfig(epochs=1, limit=32))
    return out


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct from its wheel, converted once per test session (~16 s)."""
    from valueprint.personalize.runtime import convert_smollm2

    return convert_smollm2(tmp_path_factory.mktemp("models") / "smollm2-135m-instruct")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own data directory and fresh settings."""
    monkeypatch.setenv("VALUEPRINT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VALUEPRINT_DATASETS_DIR", str(SHARED_DATA))
    load_settings.cache_clear()
    yield load_settings()
    load_settings.cache_clear()


@pytest.fixture
def jobs_db(tmp_path: Path):
    """A migrated SQLite database of its own, with participants p1 and p2: for jobs run without the web app.
    It is the process's shared one for its URL (`shared_database`), as a job running in-process finds it."""
    from valueprint.store.db import migrate, shared_database
    from valueprint.store.models import Participant

    db = shared_database(f"sqlite:///{tmp_path / 'jobs.db'}")
    migrate(db.engine)
    with db.session() as session:
        session.add_all([Participant(id=pid, secret_hash="-") for pid in ("p1", "p2")])
    return db


@pytest.fixture
def key_store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys")


@pytest.fixture
def signing_key(key_store: KeyStore) -> SigningKey:
    return key_store.create()


# -- web --------------------------------------------------------------------------


@pytest.fixture
def web_settings(tmp_path: Path):
    from valueprint.settings import Settings

    return Settings(data_dir=tmp_path / "web", environment="test")


@pytest.fixture
def web_app(web_settings):
    from valueprint.web.app import create_app

    return create_app(web_settings)


@pytest.fixture
def services(web_app):
    return web_app.state.services


@pytest.fixture
def client(web_app):
    from fastapi.testclient import TestClient

    with TestClient(web_app) as test_client:
        yield test_client


def sign_up(client) -> dict:
    """Start a participant in this client's cookie jar; returns the API's answer (incl. csrf_token)."""
    response = client.post("/v1/participants", json={"consent": True})
    assert response.status_code == 201, response.text
    started = response.json()
    client.headers["X-CSRF-Token"] = started["csrf_token"]
    return started


@pytest.fixture
def participant_client(client):
    """A client signed in as a fresh participant (CSRF header set)."""
    client.participant = sign_up(client)
    return client


@pytest.fixture(scope="session")
def steering_dir(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path) -> Path:
    """Steering vectors for every dimension of the local model, trained once per test session (~1 min)."""
    from valueprint.personalize import steering
    from valueprint.personalize.runtime import SMOLLM2_NAME, LocalModel

    folder = tmp_path_factory.mktemp("steering") / SMOLLM2_NAME
    steering.train(LocalModel(smollm2_dir, SMOLLM2_NAME), load_space()).save(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_adapter(tmp_path_factory: pytest.TempPathFactory, smollm2_dir: Path, shared_data: Path) -> Path:
    """A real DPO adapter for the first persona, trained for two steps on 8 pairs (~1 min with sampling and scoring)."""
    from valueprint.personalize.jobs import TrainingRequest
    from valueprint.personalize.training import train_subject
    from valueprint.values.personas import load_personas

    root = tmp_path_factory.mktemp("adapters")
    persona = load_personas()[0]
    request = TrainingRequest(
        job_id=f"persona-{persona.id}",
        subject="persona",
        subject_id=persona.id,
        profile_json=persona.as_profile(load_space(), 0.1).to_json(),
        out=str(root / persona.id),
        data_dir=str(root),
        datasets_dir=str(shared_data),
        model_dir=str(smollm2_dir),
        steps=2,
        reply_prompts=4,
    )
    train_subject(request)
    return root / persona.id
