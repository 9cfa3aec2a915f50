"""Request size limits (pure ASGI): the body (chunked uploads counted too) and the headers.

`valueprint serve` also bounds headers in the HTTP parser (h11's `max_incomplete_event_size`),
which stops a client that keeps sending them before they fill memory; the parser checks only
while headers are incomplete, so the app checks the total again, under any server.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive() that hands out `messages`, then defers to `then` (e.g. for disconnects)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


class BodySizeLimit:
    """413 for a body over `max_bytes`, or over `wider[prefix]` for a path under one of its prefixes."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, wider: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.wider = app, max_bytes, dict(wider or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for prefix, n in self.wider.items() if path.startswith(prefix)), self.max_bytes)
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            await refuse(send, 413, "payload_too_large", f"request bodies are limited to {max_bytes} bytes")
            return
        # Read the (small, bounded) body first, so that a chunked upload over the limit gets
        # the same 413 as one that declares its length, before the app sees any of it.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > max_bytes:
                await refuse(send, 413, "payload_too_large", f"request bodies are limited to {max_bytes} bytes")
                return
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


class HeaderSizeLimit:
    """431 for a request whose path, query and headers together exceed `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_HEADER_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            size += sum(len(name) + len(value) + 4 for name, value in scope.get("headers", []))
            if size > self.max_bytes:
                message = f"request headers are limited to {self.max_bytes} bytes"
                await refuse(send, 431, "headers_too_large", message)
                return
        await self.app(scope, receive, send)


async def refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
