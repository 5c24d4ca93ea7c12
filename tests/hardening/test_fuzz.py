"""Generated input over everything the app reads from a request: no answer is ever a 5xx and
no view lets an exception escape (the test client re-raises it), with DEBUG on and off.

Surfaces: the list's filters, search and cursor (page and HTMX fragment), the export, the
statistics range, a payment's page and live status, the "New payment" form, the sign-in
`next`, the development sign-in, the sign-in error page, and the webhook endpoint both unsigned
(any header, any body) and signed with the test TrueLayer key (any event). About 1,700 cases.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments import dynamo
from payments.dynamo import Dynamo
from tests.factories import ALICE
from tests.truelayer.fakes import WebhookSigner
from tests.webhooks.helpers import payment_with_link

EXAMPLES = 80
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values that broke (or nearly broke) something once, and their relatives.
SPECIAL = [
    "",
    " ",
    "0",
    "-1",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "1999-12-31",
    "2000-01-01",
    "2999-12-31",
    "2026-02-30",
    "1e27",
    "1e-27",
    "1E+999999999",
    "NaN",
    "-Infinity",
    "sNaN",
    "9" * 39,
    "9" * 38 + ".99",
    "£12.50",
    "12,50",
    "1,250.00",
    "€ 1e3 EUR",
    "\x00",
    "\u202e",
    "%",
    "'\"<script>",
    "javascript:alert(1)",
    "//evil.example",
    "https://evil.example/",
    "payments:list",
    "[" * 3000,
    "{" * 100 + "}" * 100,
    "a" * 5000,
    "custom",
    "today",
    "7d",
    "month",
    "GBP",
    "gbp",
    "XXX",
    "pending",
    "settled",
    "../../etc/passwd",
]
value = st.one_of(
    st.sampled_from(SPECIAL),
    st.text(max_size=40),
    st.dates().map(str),
    st.integers().map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"[0-9]{20,60}(\.[0-9]{1,4})?", fullmatch=True),
    st.integers(0, 4000).map(lambda n: "[" * n + "]" * n),
)
# Mostly absent: a value breaks a view only when the other parameters let it get that far.
maybe = st.one_of(st.none(), st.none(), st.none(), value)
# Per field: well-formed values of the field's kind (where the edges hide), or anything.
dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "2000-01-01", "2999-12-31", "3000-01-01"]),
    value,
)
amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{0,8}(\.[0-9]{0,4})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"[0-9]{10,25}", fullmatch=True),
    st.builds("{}e{}".format, st.integers(1, 999), st.integers(-40, 40)),
    value,
)
numbers = st.from_regex(r"[£€]?[0-9]{1,60}(\.[0-9]{1,3})?( ?(GBP|EUR))?", fullmatch=True)
LATIN1 = st.characters(min_codepoint=32, max_codepoint=255)
header_value = st.sampled_from(SPECIAL).filter(lambda v: "\x00" not in v) | st.text(
    LATIN1, max_size=300
)


def no_server_error(response: Any) -> None:
    assert response.status_code < 500, response.status_code
    if not getattr(response, "streaming", False):
        assert b"Traceback" not in response.content


def params(**values: str | list[str] | None) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
def known_payment(repo: Dynamo) -> str:
    return payment_with_link(repo).payment_id


def query(**fields: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A query of one to three of `fields`, each from its own strategy: with few parameters
    set, an edge value usually gets past the others to the code it can break."""
    pairs = st.one_of(*(st.tuples(st.just(name), values) for name, values in fields.items()))
    return st.lists(pairs, min_size=1, max_size=3).map(_merge)


def _merge(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name, item in pairs:
        if name == "status":  # the one repeated parameter
            merged.setdefault(name, []).append(item)
        else:
            merged[name] = item
    return merged


statuses = st.sampled_from(["pending", "failed", "settled"]) | value
ranges = st.sampled_from(["custom", "today", "7d", "30d", "month"]) | value


@FUZZ
@given(
    params_=query(
        status=statuses,
        range=ranges,
        start=dates,
        end=dates,
        currency=st.sampled_from(["GBP", "eur"]) | value,
        cursor=value,
        q=value | numbers,
    ),
    htmx=st.sampled_from([{}, {"HX-Request": "true", "HX-Target": "load-more"}]),
)
def test_list_and_export_never_fail(
    alice: Client,
    repo: Dynamo,
    debug: bool,
    params_: dict[str, Any],
    htmx: dict[str, str],
) -> None:
    no_server_error(alice.get("/", params_, headers=htmx))
    no_server_error(alice.get("/export.csv", params_))


@FUZZ
@given(params_=query(range=ranges, start=dates, end=dates))
def test_statistics_never_fail(
    alice: Client, repo: Dynamo, debug: bool, params_: dict[str, Any]
) -> None:
    no_server_error(alice.get("/stats/", params_))


@FUZZ
@given(payment_id=value.filter(lambda v: v and "/" not in v), shown=maybe, part=maybe)
def test_payment_pages_never_fail(
    alice: Client,
    repo: Dynamo,
    known_payment: str,
    debug: bool,
    payment_id: str,
    shown: str | None,
    part: str | None,
) -> None:
    for pid in (payment_id, known_payment):
        no_server_error(alice.get(f"/payments/{quote(pid, safe='')}/"))
        no_server_error(
            alice.get(f"/payments/{quote(pid, safe='')}/status/", params(shown=shown, part=part))
        )


@FUZZ
@given(
    amount=amounts,
    currency=st.sampled_from(["GBP", "EUR", "GBP", "EUR"]) | value,
    reference=st.from_regex(r"[A-Za-z0-9 ]{1,18}", fullmatch=True) | value,
    payer_name=maybe,
    payer_email=st.none() | st.emails().map(str) | value,
    expires_at=maybe | st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    submission_token=maybe | st.uuids().map(lambda u: u.hex),
)
def test_new_payment_form_never_fails(
    alice: Client,
    repo: Dynamo,
    signer: WebhookSigner,
    debug: bool,
    amount: str | None,
    currency: str | None,
    reference: str | None,
    payer_name: str | None,
    payer_email: str | None,
    expires_at: str | None,
    submission_token: str | None,
) -> None:
    form = params(
        amount=amount,
        currency=currency,
        reference=reference,
        payer_name=payer_name,
        payer_email=payer_email,
        expires_at=expires_at,
        submission_token=submission_token,
    )
    no_server_error(alice.post("/payments/new/", form))


@FUZZ
@given(next_url=maybe, merchant=st.sampled_from(["dev|alice", "auth0|x"]) | value, error_code=maybe)
def test_sign_in_pages_never_fail(
    client: Client,
    db: None,
    debug: bool,
    next_url: str | None,
    merchant: str | None,
    error_code: str | None,
) -> None:
    no_server_error(client.get("/accounts/login/", params(next=next_url)))
    no_server_error(client.get("/accounts/error/", params(error_code=error_code)))
    no_server_error(client.get("/accounts/logout/"))
    with override_settings(DEV_SIGN_IN=debug):
        no_server_error(client.get("/accounts/dev-login/", params(next=next_url)))
        no_server_error(
            client.post("/accounts/dev-login/", params(next=next_url, merchant_id=merchant))
        )
        # Signed in (or not): the sign-in page sends the merchant on, somewhere on this site.
        response = client.get("/accounts/login/", params(next=next_url))
        no_server_error(response)
        if response.status_code == 302:
            assert response["Location"].startswith("/")
            assert not response["Location"].startswith("//")
    client.logout()


@FUZZ
@given(
    signature=st.none() | header_value,
    timestamp=st.none() | header_value,
    body=st.binary(max_size=300) | value.map(str.encode),
    slash=st.booleans(),
)
def test_unsigned_webhooks_never_fail(
    client: Client,
    repo: Dynamo,
    debug: bool,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    slash: bool,
) -> None:
    headers = params(**{"Tl-Signature": signature, "X-Tl-Webhook-Timestamp": timestamp})
    url = "/webhooks/truelayer/" if slash else "/webhooks/truelayer"
    response = client.post(url, data=body, content_type="application/json", headers=headers)
    no_server_error(response)
    assert response.status_code in {400, 401}


EVENT_TYPES = [
    "payment_link_payment_created",
    "payment_link_disabled",
    "payment_authorized",
    "payment_executed",
    "payment_settled",
    "payment_failed",
    "payment_creditable",
    "payment_settlement_stalled",
    "payment_reversed",
    "refund_executed",
    "payout_executed",
]
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | value,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@FUZZ
@given(
    event_type=st.sampled_from(EVENT_TYPES) | value,
    event_id=st.uuids().map(str) | value | json_value,
    ids=st.sampled_from(["known", "unknown", "fuzz"]),
    fuzz_id=json_value,
    moment=value | st.datetimes().map(lambda d: d.isoformat() + "Z"),
    extra=st.dictionaries(
        st.sampled_from(["failure_stage", "failure_reason", "disablement_reason", "payment"]),
        json_value,
    ),
    depth=st.sampled_from([0, 0, 0, 50, 5000]),
)
def test_signed_webhooks_never_fail(
    client: Client,
    repo: Dynamo,
    signer: WebhookSigner,
    known_payment: str,
    debug: bool,
    event_type: Any,
    event_id: Any,
    ids: str,
    fuzz_id: Any,
    moment: str,
    extra: dict[str, Any],
    depth: int,
) -> None:
    payment = dynamo.payment_get(repo, user_id=ALICE, payment_id=known_payment)
    assert payment is not None
    link_id: Any = {"known": payment.payment_link_id, "unknown": "link-nobody", "fuzz": fuzz_id}
    event: dict[str, Any] = {
        "type": event_type,
        "event_version": 1,
        "event_id": event_id,
        "payment_link_id": link_id[ids],
        "payment_id": fuzz_id if ids == "fuzz" else "tl-1",
        "payment": {"id": "tl-1"},
        **dict.fromkeys(("executed_at", "failed_at", "settled_at", "disabled_at"), moment),
        **extra,
    }
    body = json.dumps(event).encode()
    if depth:
        body = body[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}"
    headers = signer.sign(body)
    response = client.post(
        "/webhooks/truelayer/",
        data=body,
        content_type=headers.pop("Content-Type"),
        headers=headers,
    )
    no_server_error(response)
