"""A small HTTP proxy between the app and DynamoDB Local that makes chosen answers late.

Every request is forwarded at once, so DynamoDB applies it; for the requests a rule picks (by
their `X-Amz-Target`, e.g. `DynamoDB_20120810.TransactWriteItems`), the answer is held for
`delay` seconds before it is sent back — past the client's timeout, so botocore gives up on it
and retries a write that already happened. That is the fault of issue 11: "a DynamoDB answer
that arrives after the client's timeout".
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@dataclass
class _Rule:
    target: str  # X-Amz-Target suffix, e.g. "TransactWriteItems"
    remaining: int | None  # None: every matching request while the rule is on
    delay: float


class DelayingProxy:
    """Forward to `upstream`; hold the answers the rules pick. Use as a context manager."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.forwarded: Counter[str] = Counter()  # requests DynamoDB received, by operation
        self.held: Counter[str] = Counter()  # answers held past the delay, by operation
        self.log: list[tuple[str, int, str]] = []  # (operation, status, ClientRequestToken)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DelayingProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delay_next(self, operation: str, *, count: int = 1, delay: float) -> None:
        """Hold the answers of the next `count` requests of `operation` for `delay` s."""
        with self._lock:
            self._rules.append(_Rule(operation, count, delay))

    def delay_all(self, operation: str, *, delay: float) -> None:
        """Hold every answer of `operation` until `clear()`: DynamoDB stays slow."""
        with self._lock:
            self._rules.append(_Rule(operation, None, delay))

    def clear(self) -> None:
        """DynamoDB is fast again."""
        with self._lock:
            self._rules.clear()

    def _delay_for(self, operation: str) -> float:
        with self._lock:
            for rule in self._rules:
                if rule.target == operation and rule.remaining != 0:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule.delay
        return 0.0

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                upstream.request("POST", self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                payload = answer.read()
                upstream.close()
                proxy.forwarded[operation] += 1
                token = json.loads(body or b"{}").get("ClientRequestToken", "")
                proxy.log.append((operation, answer.status, token))
                delay = proxy._delay_for(operation)
                if delay:
                    proxy.held[operation] += 1
                    time.sleep(delay)
                try:
                    self.send_response(answer.status, answer.reason)
                    for name, value in answer.getheaders():
                        if name.lower() not in _HOP_BY_HOP:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    self.close_connection = True  # the client gave up on this answer

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        return Handler
