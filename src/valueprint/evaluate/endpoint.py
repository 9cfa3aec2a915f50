"""A client for one OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp, Ollama, OpenAI).

`ChatEndpoint(base_url, model)` is a thread-safe callable `(system_prompt, user_prompt) -> reply`.
The base URL is taken the way the openai client takes one (`chat_completions_url`); HTTP 429
and 5xx are retried with backoff; every failure is an `EndpointError` subclass that names the
URL and the fix (`valueprint.errors`).
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from valueprint.errors import EndpointError, EndpointResponseError, EndpointStatusError, EndpointUnreachableError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
STATUS_HINTS = {
    401: "send a valid API key",
    403: "the API key may not use this model",
    404: "check the URL (an OpenAI-compatible base such as http://host:port/v1) and the model name",
}


def chat_completions_url(base: str) -> str:
    """Where to POST, given a base URL the way the openai client takes one.

    `http://h:p` -> `http://h:p/v1/chat/completions`; `http://h:p/v1` (or any other path)
    -> `.../v1/chat/completions`; a URL that already ends in /chat/completions is kept.
    """
    try:
        url = httpx.URL(base.strip())
    except (httpx.InvalidURL, TypeError) as error:
        raise EndpointError(f"endpoint {base!r} is not a URL ({error}); pass e.g. http://127.0.0.1:8080/v1") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise EndpointError(f"endpoint {base!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8080/v1")
    path = url.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path = (path or "/v1") + "/chat/completions"
    return str(url.copy_with(path=path))


def api_key_from_env(name: str | None) -> str | None:
    """The API key in environment variable `name`; None when no variable is named."""
    if not name:
        return None
    key = os.environ.get(name, "").strip()
    if not key:
        raise EndpointError(f"environment variable {name} is not set; export the API key in it or name no variable")
    return key


class ChatEndpoint:
    """POST {base}/chat/completions, one user turn after an optional system prompt. Thread-safe; close() when done."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 300,
        timeout_s: float = 120.0,
        retries: int = 2,
    ) -> None:
        self.url = chat_completions_url(base_url)
        self.model, self.temperature, self.max_tokens = model, temperature, max_tokens
        self.timeout_s, self.retries = timeout_s, retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=10.0), headers=headers)

    def __call__(self, system_prompt: str | None, user_prompt: str) -> str:
        messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
        messages.append({"role": "user", "content": user_prompt})
        return self.complete(messages)

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int | None = None, temperature: float | None = None
    ) -> str:
        """The reply to a whole conversation."""
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature if temperature is None else temperature,
            "max_tokens": max_tokens or self.max_tokens,
        }
        return self._content(self._post(body))

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TimeoutException as error:
                raise EndpointUnreachableError(
                    f"the model endpoint {self.url} did not answer within {self.timeout_s:g} s; "
                    "check that the server is up and not overloaded, or send fewer requests at once"
                ) from error
            except httpx.TransportError as error:
                raise EndpointUnreachableError(
                    f"cannot reach the model endpoint {self.url} ({error}); start the server or fix the URL"
                ) from error
            if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                return response
            time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _content(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            hint = STATUS_HINTS.get(response.status_code, "see the server's log")
            raise EndpointStatusError(
                f"the model endpoint {self.url} answered HTTP {response.status_code}: {response.text[:200]!r}; {hint}"
            )
        try:
            message = response.json()["choices"][0]["message"]
            content = message.get("content")
            content = message.get("refusal") if content is None else content
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise EndpointResponseError(
                f"the model endpoint {self.url} did not answer with chat-completions JSON "
                f"(no choices[0].message.content: {error!r}); is it an OpenAI-compatible server?"
            ) from error
        if not isinstance(content, str):
            raise EndpointResponseError(f"the model endpoint {self.url} sent no text in choices[0].message.content")
        return content

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ChatEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
