"""Merchant accounts: the personal account keeps existing payments where they are, the
switcher is per session and only to one's own accounts, removal works at the next request,
and the last owner rules hold."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.merchant import CURRENT_ACCOUNT_SESSION_KEY
from accounts.models import Membership, MerchantAccount, Role
from tests.accounts.members_helpers import business, person, work_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]

ALICE = "auth0|alice"
BOB = "auth0|bob"


def test_existing_person_gets_a_personal_account_whose_id_is_their_sub(client: Client) -> None:
    alice = person(ALICE, "Alice Merchant", "alice@example.com")
    assert not MerchantAccount.objects.exists()
    client.force_login(alice)

    assert client.get("/test/payments/").content.decode() == f"payments of {ALICE}"

    account = MerchantAccount.objects.get(pk=ALICE)
    assert account.personal and account.name == "Alice Merchant"
    assert Membership.objects.get(account=account).role == Role.OWNER
    client.get("/test/payments/")  # made once only
    assert MerchantAccount.objects.count() == 1


def test_switcher_changes_the_account_for_this_session_only(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    shop = business("Shop", (alice, Role.VIEWER))
    client.force_login(alice)

    work_in(client, shop)

    assert client.get("/test/payments/").content.decode() == f"payments of {shop}"
    other_browser = Client()
    other_browser.force_login(alice)
    assert other_browser.get("/test/payments/").content.decode() == f"payments of {ALICE}"


@pytest.mark.parametrize("choice", ["acct_theirs", "", "auth0|bob"])
def test_switching_to_an_account_one_is_not_a_member_of_is_404_and_changes_nothing(
    client: Client, choice: str
) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    bob = person(BOB, "Bob", "bob@example.com")
    business("Theirs", (bob, Role.OWNER), account_id="acct_theirs")
    client.force_login(bob)
    client.get("/test/payments/")  # Bob's personal account exists
    client.force_login(alice)

    response = client.post("/accounts/switch/", {"account": choice})

    assert response.status_code == 404
    assert CURRENT_ACCOUNT_SESSION_KEY not in client.session
    assert client.get("/test/payments/").content.decode() == f"payments of {ALICE}"


def test_switcher_is_shown_only_to_people_with_several_accounts(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    client.force_login(alice)
    page = client.get("/test/page/").content.decode()
    assert 'name="account"' not in page and "Alice" in page

    business("Shop", (alice, Role.OPERATOR))
    page = client.get("/test/page/").content.decode()
    assert 'action="/accounts/switch/"' in page
    assert "Shop (operator)" in page and "Alice (owner)" in page


def test_removed_member_loses_the_account_at_their_next_request(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    bob = person(BOB, "Bob", "bob@example.com")
    shop = business("Shop", (alice, Role.OWNER), (bob, Role.OPERATOR))
    client.force_login(bob)
    work_in(client, shop)
    assert client.get("/test/payments/").content.decode() == f"payments of {shop}"
    owner = Client()
    owner.force_login(alice)
    work_in(owner, shop)
    bob_membership = Membership.objects.get(user=bob, account_id=shop)

    response = owner.post(f"/accounts/members/{bob_membership.pk}/remove/")

    assert response.status_code == 302
    # Same session, next click: back in his own account, the shop's payments are gone.
    assert client.get("/test/payments/").content.decode() == f"payments of {BOB}"


def test_demoted_member_has_the_new_role_at_their_next_request(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    bob = person(BOB, "Bob", "bob@example.com")
    shop = business("Shop", (alice, Role.OWNER), (bob, Role.OPERATOR))
    client.force_login(bob)
    work_in(client, shop)
    assert client.get("/payments/new/").status_code == 200
    owner = Client()
    owner.force_login(alice)
    work_in(owner, shop)
    bob_membership = Membership.objects.get(user=bob, account_id=shop)

    owner.post(f"/accounts/members/{bob_membership.pk}/role/", {"role": "viewer"})

    assert client.get("/payments/new/").status_code == 403


def test_the_last_owner_can_neither_leave_nor_be_demoted(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    client.force_login(alice)
    client.get("/test/payments/")
    me = Membership.objects.get(user=alice, account_id=ALICE)

    leave = client.post(f"/accounts/members/{me.pk}/remove/")
    demote = client.post(f"/accounts/members/{me.pk}/role/", {"role": "operator"})

    for response in (leave, demote):
        assert response.status_code == 400
        assert "last owner" in response.content.decode()
    me.refresh_from_db()
    assert me.role == Role.OWNER


def test_with_a_second_owner_an_owner_can_step_down_and_leave(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    bob = person(BOB, "Bob", "bob@example.com")
    shop = business("Shop", (alice, Role.OWNER), (bob, Role.OWNER))
    client.force_login(alice)
    work_in(client, shop)
    me = Membership.objects.get(user=alice, account_id=shop)

    assert client.post(f"/accounts/members/{me.pk}/role/", {"role": "viewer"}).status_code == 302
    me.refresh_from_db()
    assert me.role == Role.VIEWER
    bob_membership = Membership.objects.get(user=bob, account_id=shop)
    demote_last = client.post(f"/accounts/members/{bob_membership.pk}/role/", {"role": "viewer"})
    assert demote_last.status_code == 403  # a viewer manages nobody
    assert client.post(f"/accounts/members/{me.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=me.pk).exists()
    assert client.get("/test/payments/").content.decode() == f"payments of {ALICE}"


def test_non_owners_see_the_members_read_only_and_cannot_manage(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    bob = person(BOB, "Bob", "bob@example.com")
    shop = business("Shop", (alice, Role.OWNER), (bob, Role.OPERATOR))
    client.force_login(bob)
    work_in(client, shop)
    alice_membership = Membership.objects.get(user=alice, account_id=shop)

    page = client.get("/accounts/members/").content.decode()
    attempts = [
        client.post("/accounts/members/invite/", {"email": "c@example.com", "role": "viewer"}),
        client.post(f"/accounts/members/{alice_membership.pk}/role/", {"role": "viewer"}),
        client.post(f"/accounts/members/{alice_membership.pk}/remove/"),
    ]

    assert "alice@example.com" in page and "Operator" in page
    assert "Invite someone" not in page and "Change role" not in page
    assert [r.status_code for r in attempts] == [403, 403, 403]
    assert "You cannot do this here" in attempts[0].content.decode()
    assert Membership.objects.get(pk=alice_membership.pk).role == Role.OWNER


def test_an_owner_of_one_account_cannot_touch_members_of_another(client: Client) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    bob = person(BOB, "Bob", "bob@example.com")
    business("Theirs", (bob, Role.OWNER))
    theirs = Membership.objects.get(user=bob)
    client.force_login(alice)  # owner of her personal account only

    response = client.post(f"/accounts/members/{theirs.pk}/remove/")

    assert response.status_code == 400
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_create_a_business_account_makes_the_person_its_owner_and_works_in_it(
    client: Client,
) -> None:
    alice = person(ALICE, "Alice", "alice@example.com")
    client.force_login(alice)

    assert client.post("/accounts/new/", {"name": "  "}).status_code == 400
    response = client.post("/accounts/new/", {"name": "Alice's Bakery"})

    assert response.status_code == 302
    account = MerchantAccount.objects.get(name="Alice's Bakery")
    assert account.pk.startswith("acct_") and not account.personal
    assert Membership.objects.get(account=account).role == Role.OWNER
    assert client.get("/test/payments/").content.decode() == f"payments of {account.pk}"
