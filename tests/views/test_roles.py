"""Roles on every payments view and fragment: a viewer reads, searches, sees statistics and
exports; only an operator or owner creates links, refunds, cancels, refreshes or retries.
A refused request answers the product's 403 page and nothing happens; the buttons a role
cannot use are not shown."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from django.test import Client

from accounts.models import Role
from payments import dynamo
from payments.domain import Payment, PaymentStatus
from payments.dynamo import Dynamo
from payments.services import PaymentNotFound
from tests.accounts.members_helpers import business, person, work_in
from tests.factories import make_payments, reach
from tests.truelayer.fakes import LINKS_URL, link_created
from tests.views.conftest import HTMX

SHOP = "acct_shop"
NEW = {"amount": "12.50", "currency": "GBP", "reference": "INV-9", "submission_token": "c" * 32}

# (method, path, data); `{id}` is the shop's payment. Reads: every role.
READS: list[tuple[str, str, dict[str, str]]] = [
    ("get", "/", {}),
    ("get", "/?q=INV", {}),
    ("htmx", "/", {}),
    ("get", "/payments/{id}/", {}),
    ("htmx", "/payments/{id}/", {}),
    ("get", "/payments/{id}/status/", {}),
    ("get", "/payments/{id}/status/?part=detail", {}),
    ("get", "/stats/", {}),
    ("htmx", "/stats/", {}),
    ("get", "/export.csv", {}),
]
# Money actions: operator and owner only.
ACTIONS: list[tuple[str, str, dict[str, str]]] = [
    ("get", "/payments/new/", {}),
    ("post", "/payments/new/", NEW),
    ("post", "/payments/{id}/retry-link/", {}),
    ("post", "/payments/{id}/refresh/", {}),
    ("get", "/payments/{id}/refund/", {}),
    ("post", "/payments/{id}/refund/", {"amount": "1.00", "confirm": "1", "form_token": "d" * 32}),
    ("post", "/payments/{id}/cancel/", {}),
    ("post", "/payments/{id}/refunds/r-1/retry/", {}),
]
# The service each action would call: recorded instead, so "nothing happens" is checked.
SERVICES = [
    "payments.services.payment_retry_link",
    "payments.services.payment_refresh_status",
    "payments.services.refund_create",
    "payments.services.refund_retry",
    "payments.services.cancel.payment_cancel",
]


@pytest.fixture
def shop(db: None, repo: Dynamo) -> Payment:
    """Account "Shop" with an owner, an operator and a viewer, and one executed payment."""
    owner = person("auth0|olivia", "Olivia Owner", "olivia@example.com")
    operator = person("auth0|oscar", "Oscar Operator", "oscar@example.com")
    viewer = person("auth0|vera", "Vera Viewer", "vera@example.com")
    business(
        "Shop",
        (owner, Role.OWNER),
        (operator, Role.OPERATOR),
        (viewer, Role.VIEWER),
        account_id=SHOP,
    )
    (payment,) = make_payments(repo, SHOP, 1)
    return reach(repo, payment, PaymentStatus.EXECUTED)


def as_member(role: Role) -> Client:
    sub = {Role.OWNER: "auth0|olivia", Role.OPERATOR: "auth0|oscar", Role.VIEWER: "auth0|vera"}
    client = Client()
    client.force_login(person(sub[role], role.label, f"{role.value}@x.example"))
    work_in(client, SHOP)
    return client


def call(client: Client, method: str, path: str, data: dict[str, str], payment: Payment) -> Any:
    url = path.format(id=payment.payment_id)
    if method == "post":
        return client.post(url, data)
    if method == "htmx":
        return client.get(url, headers=HTMX)
    return client.get(url, data)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for target in SERVICES:

        def record(*args: Any, _name: str = target, **kwargs: Any) -> Any:
            calls.append(_name)
            raise PaymentNotFound("recorded")  # the view answers 404 after the call

        monkeypatch.setattr(target, record)
    return calls


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("method", "path", "data"), READS)
def test_every_role_may_read(
    shop: Payment, role: Role, method: str, path: str, data: dict[str, str]
) -> None:
    response = call(as_member(role), method, path, data, shop)
    assert response.status_code in (200, 204), (role, path, response.status_code)


@pytest.mark.parametrize(("method", "path", "data"), ACTIONS)
def test_a_viewer_gets_the_403_page_and_nothing_happens(
    shop: Payment,
    repo: Dynamo,
    recorded: list[str],
    truelayer: responses.RequestsMock,
    method: str,
    path: str,
    data: dict[str, str],
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    response = call(as_member(Role.VIEWER), method, path, data, shop)

    assert response.status_code == 403
    page = response.content.decode()
    assert "You cannot do this here" in page and "Nothing was changed" in page
    assert "<html" in page  # the product's page, not Django's bare text
    assert recorded == []
    assert len(truelayer.calls) == 0
    after = dynamo.payment_get(repo, user_id=SHOP, payment_id=shop.payment_id)
    assert after is not None and after.version == shop.version
    assert len(dynamo.payment_list(repo, user_id=SHOP).items) == 1


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.OWNER])
@pytest.mark.parametrize(("method", "path", "data"), ACTIONS)
def test_operators_and_owners_may_act(
    shop: Payment,
    repo: Dynamo,
    recorded: list[str],
    truelayer: responses.RequestsMock,
    role: Role,
    method: str,
    path: str,
    data: dict[str, str],
) -> None:
    truelayer.add(responses.POST, LINKS_URL, json=link_created())
    response = call(as_member(role), method, path, data, shop)

    assert response.status_code != 403, (role, path)
    if path == "/payments/new/" and method == "post":
        assert response.status_code == 302
        assert len(dynamo.payment_list(repo, user_id=SHOP).items) == 2
    elif method == "post" and "/refund/" not in path:
        assert len(recorded) == 1 and response.status_code == 404  # reached the service


def test_a_viewer_sees_no_buttons_for_money_actions(shop: Payment) -> None:
    viewer, operator = as_member(Role.VIEWER), as_member(Role.OPERATOR)
    url = f"/payments/{shop.payment_id}/"
    for_viewer = viewer.get(url).content.decode()
    for_operator = operator.get(url).content.decode()
    for_viewer += viewer.get("/").content.decode()
    for_operator += operator.get("/").content.decode()

    for marker in (f"/payments/{shop.payment_id}/refund/", "/payments/new/"):
        assert marker in for_operator
        assert marker not in for_viewer
