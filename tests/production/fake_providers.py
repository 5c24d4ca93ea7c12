"""Auth0 and TrueLayer, faked over real HTTPS for app servers running in other processes.

The in-process tests fake both with the `responses` library (tests/accounts/conftest.py,
tests/truelayer/fakes.py); gunicorn servers are separate processes, so here the same fakes
answer on a local HTTPS port instead. They reuse those modules' pieces: Auth0's RS256 id_token
and JWKS (`make_id_token`, `jwks_for`), TrueLayer's webhook signer (`WebhookSigner`) and the
check of our request signatures (the public half of the test signing key).

One server, both providers (their paths do not overlap):

* Auth0 (`AUTH0_DOMAIN=127.0.0.1:<port>`): `POST /oauth/token` exchanges a code made by
  `issue_code(sub)` for an id_token naming that merchant; `GET /.well-known/jwks.json`.
* TrueLayer (`TRUELAYER_AUTH_URL`/`TRUELAYER_API_URL` = this server): `POST /connect/token`
  (counted: `token_requests`), `POST /v3/payment-links` (bearer token and `Tl-Signature`
  checked, one link per Idempotency-Key), `GET /v3/payment-links/{id}/payments`,
  `GET /v3/payments/{id}`, and the webhook JWKS at `/tl/.well-known/jwks`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devtools.tls import TLSFiles
from payments.truelayer.webhooks import SignatureRejected, verify_signature
from tests.accounts.conftest import jwks_for, make_id_token, new_rsa_key
from tests.truelayer.fakes import WebhookSigner, event_body, our_public_pem

AUTH0_CLIENT_ID = "production-shape-client"
AUTH0_CLIENT_SECRET = "production-shape-secret"
WEBHOOK_JWKS_PATH = "/tl/.well-known/jwks"


# --- the fake providers ----------------------------------------------------------------------


@dataclass
class FakeLink:
    link_id: str
    body: dict[str, Any]
    idempotency_key: str
    # TrueLayer's payment attempts on this link (what GET .../payments lists).
    attempts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeProviders:
    """State of both fakes; the HTTP handler reads and changes it under `lock`."""

    port: int = 0
    token_lifetime: int = 3600
    token_delay: float = 0.0  # seconds the token endpoint takes to answer
    lock: threading.Lock = field(default_factory=threading.Lock)
    token_requests: int = 0
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (monotonic)
    links: dict[str, FakeLink] = field(default_factory=dict)  # by link id
    link_requests: int = 0
    refused: list[str] = field(default_factory=list)  # why a request was refused
    codes: dict[str, str] = field(default_factory=dict)  # Auth0 code -> sub
    auth0_key: Any = field(default_factory=new_rsa_key)
    signer: WebhookSigner | None = None
    request_signing_public_pem: str = field(default_factory=our_public_pem)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def auth0_domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def jku(self) -> str:
        return self.url + WEBHOOK_JWKS_PATH

    def issue_code(self, sub: str) -> str:
        """What Auth0 puts in the callback after `sub` signed in on its page."""
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = sub
        return code

    def links_with_reference(self, reference: str) -> list[FakeLink]:
        with self.lock:
            return [link for link in self.links.values() if link.body["reference"] == reference]

    def webhook(self, event_type: str, **fields: Any) -> tuple[bytes, dict[str, str]]:
        """A signed delivery of one event, as TrueLayer sends it now (body, headers)."""
        assert self.signer is not None
        body = event_body(event_type, **fields)
        timestamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return body, self.signer.sign(body, timestamp=timestamp)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # --- plumbing
    def _reply(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _problem(self, status: int, title: str) -> None:
        with self.server.fake.lock:
            self.server.fake.refused.append(f"{self.command} {self.path}: {title}")
        self._reply(status, {"title": title, "status": status, "trace_id": "fake-trace"})

    def _authorised(self) -> bool:
        fake = self.server.fake
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        with fake.lock:
            expiry = fake.tokens.get(token)
        if expiry is None or expiry < time.monotonic():
            self._problem(401, "Unauthorized")
            return False
        return True

    # --- routes
    def do_GET(self) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        if path == "/.well-known/jwks.json":
            return self._reply(200, jwks_for(fake.auth0_key))
        if path == WEBHOOK_JWKS_PATH:
            assert fake.signer is not None
            return self._reply(200, fake.signer.jwks())
        parts = path.strip("/").split("/")
        if parts[:2] == ["v3", "payment-links"] and len(parts) == 4 and parts[3] == "payments":
            if not self._authorised():
                return None
            with fake.lock:
                link = fake.links.get(parts[2])
                items = list(link.attempts) if link else None
            if items is None:
                return self._problem(404, "Not Found")
            return self._reply(200, {"items": items})
        if parts[:2] == ["v3", "payment-links"] and len(parts) == 3:
            if not self._authorised():
                return None
            with fake.lock:
                known = parts[2] in fake.links
            if not known:
                return self._problem(404, "Not Found")
            return self._reply(200, {"id": parts[2], "status": "enabled"})
        if parts[:2] == ["v3", "payments"] and len(parts) == 3:
            if not self._authorised():
                return None
            with fake.lock:
                found = [a for link in fake.links.values() for a in link.attempts]
            match = next((a for a in found if a["id"] == parts[2]), None)
            if match is None:
                return self._problem(404, "Not Found")
            return self._reply(200, match)
        return self._problem(404, "Not Found")

    def do_POST(self) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        body = self._body()
        if path == "/oauth/token":  # Auth0
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            with fake.lock:
                sub = fake.codes.pop(form.get("code", ""), None)
            if sub is None or form.get("client_id") != AUTH0_CLIENT_ID:
                return self._reply(403, {"error": "invalid_grant"})
            id_token = make_id_token(
                fake.auth0_key, iss=f"{fake.url}/", aud=AUTH0_CLIENT_ID, sub=sub
            )
            return self._reply(
                200,
                {"access_token": "at", "id_token": id_token, "token_type": "Bearer"},
            )
        if path == "/connect/token":  # TrueLayer
            time.sleep(fake.token_delay)
            token = f"tl-token-{secrets.token_hex(8)}"
            with fake.lock:
                fake.token_requests += 1
                fake.tokens[token] = time.monotonic() + fake.token_lifetime
                lifetime = fake.token_lifetime
            return self._reply(
                200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"}
            )
        if path == "/v3/payment-links":
            if not self._authorised():
                return None
            key = self.headers.get("Idempotency-Key") or ""
            try:
                verify_signature(
                    self.headers.get("Tl-Signature") or "",
                    key=fake.request_signing_public_pem,
                    method="POST",
                    path=path,
                    headers={"Idempotency-Key": key},
                    body=body,
                    required_headers=("Idempotency-Key",),
                )
            except SignatureRejected as rejected:
                return self._problem(401, f"Invalid signature: {rejected.reason}")
            with fake.lock:
                fake.link_requests += 1
                link = next((x for x in fake.links.values() if x.idempotency_key == key), None)
                if link is None:
                    link_id = f"link-{secrets.token_hex(6)}"
                    link = FakeLink(link_id, json.loads(body), key)
                    fake.links[link_id] = link
            return self._reply(
                200, {"id": link.link_id, "uri": f"https://payment.example/{link.link_id}"}
            )
        return self._problem(404, "Not Found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeProviders


@dataclass
class RunningFakes:
    fake: FakeProviders
    server: _Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_fakes(tls: TLSFiles) -> RunningFakes:
    """Both fakes on 127.0.0.1, a free port, HTTPS with `tls`."""
    server = _Server(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls.cert), str(tls.key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake = FakeProviders(port=server.server_address[1])
    fake.signer = WebhookSigner(jku=fake.jku)
    server.fake = fake
    thread = threading.Thread(target=server.serve_forever, name="fake-providers", daemon=True)
    thread.start()
    return RunningFakes(fake, server, thread)
