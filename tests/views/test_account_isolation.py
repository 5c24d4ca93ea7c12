"""Isolation between two merchant accounts of the same person: working in one, nothing of
the other is reachable by any URL, fragment, search, export, statistics or cursor, exactly as
for another merchant's payments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Role
from payments import dynamo
from payments.domain import Payment
from payments.dynamo import Dynamo
from tests.accounts.members_helpers import business, person, work_in
from tests.factories import ALICE, make_payments
from tests.views.conftest import HTMX

SHOP = "acct_alices_shop"

# Every URL that names a payment (GET and POST ones).
PAYMENT_URLS = [
    ("get", "/payments/{id}/"),
    ("htmx", "/payments/{id}/"),
    ("get", "/payments/{id}/status/"),
    ("get", "/payments/{id}/status/?part=detail"),
    ("get", "/payments/{id}/refund/"),
    ("post", "/payments/{id}/refund/"),
    ("post", "/payments/{id}/cancel/"),
    ("post", "/payments/{id}/refresh/"),
    ("post", "/payments/{id}/retry-link/"),
    ("post", "/payments/{id}/refunds/r-1/retry/"),
]


@pytest.fixture
def two_accounts(client: Client, db: None, repo: Dynamo) -> dict[str, Payment]:
    """Alice owns her personal account and a business; one payment in each."""
    alice = person(ALICE, "Alice Merchant", "alice@example.com")
    business("Alice's Shop", (alice, Role.OWNER), account_id=SHOP)
    client.force_login(alice)
    (personal,) = make_payments(repo, ALICE, 1, reference="HOME {i}")
    (shop,) = make_payments(repo, SHOP, 1, reference="SHOP {i}", amount=Decimal("77.00"))
    return {ALICE: personal, SHOP: shop}


def request(client: Client, method: str, path: str) -> int:
    if method == "post":
        return client.post(path, {"amount": "1.00", "confirm": "1"}).status_code
    if method == "htmx":
        return client.get(path, headers=HTMX).status_code
    return client.get(path).status_code


@pytest.mark.parametrize(("working_in", "other"), [(ALICE, SHOP), (SHOP, ALICE)])
@pytest.mark.parametrize(("method", "path"), PAYMENT_URLS)
def test_a_payment_of_the_other_account_is_not_found(
    client: Client,
    two_accounts: dict[str, Payment],
    working_in: str,
    other: str,
    method: str,
    path: str,
) -> None:
    work_in(client, working_in)
    theirs = two_accounts[other]
    assert request(client, method, path.format(id=theirs.payment_id)) == 404


@pytest.mark.parametrize(("working_in", "other"), [(ALICE, SHOP), (SHOP, ALICE)])
def test_list_search_export_and_statistics_show_only_the_current_account(
    client: Client, two_accounts: dict[str, Payment], working_in: str, other: str
) -> None:
    work_in(client, working_in)
    mine, theirs = two_accounts[working_in], two_accounts[other]

    listing = client.get("/").content.decode()
    by_id = client.get("/", {"q": theirs.payment_id}).content.decode()
    by_reference = client.get("/", {"q": theirs.reference}).content.decode()
    fragment = client.get("/", headers=HTMX).content.decode()
    export = b"".join(client.get("/export.csv").streaming_content).decode()  # type: ignore[attr-defined]
    stats = client.get("/stats/", {"range": "custom", "start": "2026-01-01", "end": "2026-01-02"})

    assert mine.reference in listing and theirs.reference not in listing
    # The search box shows the query back; no result row may appear.
    assert 'class="row-link"' not in by_id and 'class="row-link"' not in by_reference
    assert mine.reference in fragment and theirs.payment_id not in fragment
    assert mine.payment_id in export and theirs.payment_id not in export
    totals = stats.content.decode()
    assert stats.status_code == 200
    assert f"£{mine.amount}" in totals and f"£{theirs.amount}" not in totals


def test_a_cursor_of_one_account_is_refused_in_the_other(
    client: Client, two_accounts: dict[str, Payment], repo: Dynamo, settings: object
) -> None:
    make_payments(repo, SHOP, 2)
    shop_cursor = dynamo.payment_list(repo, user_id=SHOP, page_size=1).next_cursor
    assert shop_cursor is not None
    work_in(client, ALICE)

    response = client.get("/", {"cursor": shop_cursor})

    # As for another merchant's cursor: refused with a message, nothing of the shop shown.
    assert response.status_code == 400
    assert "That page link is not valid" in response.content.decode()
    assert "SHOP" not in response.content.decode()


def test_switching_back_finds_the_payment_again(
    client: Client, two_accounts: dict[str, Payment]
) -> None:
    shop = two_accounts[SHOP]
    work_in(client, ALICE)
    assert client.get(f"/payments/{shop.payment_id}/").status_code == 404
    work_in(client, SHOP)
    assert client.get(f"/payments/{shop.payment_id}/").status_code == 200
