"""Invitations: an owner invites by email and role; the invitee signs in through the real
Auth0 backend (signed test id_tokens) and joins only with that verified email; expired,
revoked and used links do nothing; the members page's forms say what is wrong."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts.merchant import CURRENT_ACCOUNT_SESSION_KEY
from accounts.models import Invitation, Membership, Role
from tests.accounts.conftest import FakeAuth0, make_id_token, sign_in
from tests.accounts.members_helpers import business, person, work_in

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.urls")]

BOB_SUB = "auth0|bob0000000000000000000b"


@pytest.fixture
def owner(client: Client) -> tuple[Client, str]:
    """Alice, owner of "Shop", working in it."""
    alice = person("auth0|alice", "Alice", "alice@example.com")
    shop = business("Shop", (alice, Role.OWNER))
    client.force_login(alice)
    work_in(client, shop)
    return client, shop


def invite(owner_client: Client, email: str, role: str = "viewer") -> str:
    """Invite through the members page; returns the invitation path shown to the owner."""
    response = owner_client.post("/accounts/members/invite/", {"email": email, "role": role})
    assert response.status_code == 201, response.content.decode()
    found = re.search(
        r'data-copy="http://testserver(/invitations/[^"/]+/)"', response.content.decode()
    )
    assert found, "the page shows the link to send"
    return found.group(1)


def bob_token(auth0: FakeAuth0, *, email: str = "bob@example.com", verified: bool = True) -> None:
    auth0.answer_token(
        id_token=make_id_token(
            sub=BOB_SUB, email=email, email_verified=verified, name="Bob Books", nickname="bob"
        )
    )


def test_invitee_signs_in_with_auth0_and_joins_with_the_invited_role(
    owner: tuple[Client, str], auth0: FakeAuth0
) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "Bob@Example.com", "viewer")
    bob = Client()

    landing = bob.get(link)
    assert landing.status_code == 200
    assert "Join Shop" in landing.content.decode() and "viewer" in landing.content.decode()
    bob_token(auth0, email="bob@EXAMPLE.com")  # compared without case
    back = sign_in(bob, next_url=link)
    assert back.status_code == 302 and back["Location"] == link
    assert "Accept the invitation" in bob.get(link).content.decode()
    accepted = bob.post(link)

    assert accepted.status_code == 302
    membership = Membership.objects.get(account_id=shop, user__social_auth__uid=BOB_SUB)
    assert membership.role == Role.VIEWER
    assert bob.session[CURRENT_ACCOUNT_SESSION_KEY] == shop
    assert bob.get("/test/payments/").content.decode() == f"payments of {shop}"
    members = owner_client.get("/accounts/members/").content.decode()
    assert "Bob Books" in members and "No pending invitations" in members


def test_an_unverified_email_does_not_join(owner: tuple[Client, str], auth0: FakeAuth0) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "bob@example.com")
    bob = Client()
    bob_token(auth0, verified=False)
    sign_in(bob, next_url=link)

    response = bob.post(link)

    assert response.status_code == 403
    assert "not verified" in response.content.decode()
    assert not Membership.objects.filter(account_id=shop, user__social_auth__uid=BOB_SUB).exists()
    assert Invitation.objects.get().accepted_at is None  # still usable once verified


def test_someone_else_with_the_link_does_not_join(
    owner: tuple[Client, str], auth0: FakeAuth0
) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "bob@example.com")
    mallory = Client()
    bob_token(auth0, email="mallory@example.com")
    sign_in(mallory, next_url=link)

    response = mallory.post(link)

    assert response.status_code == 403
    assert "for someone else" in response.content.decode()
    assert Membership.objects.filter(account_id=shop).count() == 1


def test_an_invitation_works_once(owner: tuple[Client, str], auth0: FakeAuth0) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "bob@example.com")
    bob = Client()
    bob_token(auth0)
    sign_in(bob, next_url=link)
    assert bob.post(link).status_code == 302

    again = bob.post(link)
    page = Client().get(link)

    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert page.status_code == 410
    assert Membership.objects.filter(account_id=shop).count() == 2


def test_a_revoked_invitation_does_nothing(owner: tuple[Client, str], auth0: FakeAuth0) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "bob@example.com")
    invitation = Invitation.objects.get()
    assert owner_client.post(f"/accounts/invitations/{invitation.pk}/revoke/").status_code == 302
    bob = Client()
    bob_token(auth0)
    sign_in(bob, next_url=link)

    response = bob.post(link)

    assert response.status_code == 410 and "revoked" in response.content.decode()
    assert Membership.objects.filter(account_id=shop).count() == 1


def test_an_expired_invitation_does_nothing(owner: tuple[Client, str], auth0: FakeAuth0) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "bob@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    bob = Client()
    bob_token(auth0)
    sign_in(bob, next_url=link)

    response = bob.post(link)

    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Membership.objects.filter(account_id=shop).count() == 1
    # An expired invitation blocks nothing: the owner can invite the address again.
    invite(owner_client, "bob@example.com")


def test_an_unknown_link_says_so(client: Client) -> None:
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_only_the_hash_of_the_token_is_stored(owner: tuple[Client, str]) -> None:
    owner_client, _ = owner
    link = invite(owner_client, "bob@example.com")
    token = link.split("/")[2]
    stored = Invitation.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "not-an-email", "role": "viewer"}, "Enter a valid email address"),
        ({"email": "", "role": "viewer"}, "Enter the email address to invite"),
        ({"email": "c@example.com", "role": "admin"}, "Choose a role: owner, operator or viewer"),
        ({"email": "ALICE@example.com", "role": "viewer"}, "already a member"),
    ],
)
def test_invite_form_errors_are_shown_next_to_the_field(
    owner: tuple[Client, str], data: dict[str, str], message: str
) -> None:
    owner_client, _ = owner
    response = owner_client.post("/accounts/members/invite/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and 'class="field-error"' in page
    assert not Invitation.objects.exists()


def test_a_second_invitation_to_a_pending_address_is_refused(owner: tuple[Client, str]) -> None:
    owner_client, _ = owner
    invite(owner_client, "bob@example.com")
    response = owner_client.post(
        "/accounts/members/invite/", {"email": "BOB@example.com", "role": "operator"}
    )
    assert response.status_code == 400
    assert "already has a pending invitation" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_the_development_sign_in_gives_a_verified_email_so_invitations_work_locally(
    owner: tuple[Client, str], settings: object
) -> None:
    owner_client, shop = owner
    link = invite(owner_client, "carol@example.com", "operator")
    settings.DEBUG = True  # type: ignore[attr-defined]
    settings.DEV_SIGN_IN = True  # type: ignore[attr-defined]
    carol = Client()
    carol.post("/accounts/dev-login/", {"merchant_id": "dev|carol", "next": link})

    assert carol.post(link).status_code == 302
    assert carol.get("/test/payments/").content.decode() == f"payments of {shop}"


def _invite_page(owner: tuple[Client, str], role: str = "viewer") -> str:
    """The members page after inviting bob@example.com (201: the invitation is stored)."""
    response = owner[0].post(
        "/accounts/members/invite/", {"email": "bob@example.com", "role": role}
    )
    assert response.status_code == 201
    return str(response.content.decode())


def test_the_invitation_is_emailed_with_its_link_when_a_mail_server_is_set(
    owner: tuple[Client, str], settings: SettingsWrapper
) -> None:
    settings.INVITATION_EMAILS = True
    page = _invite_page(owner, "operator")
    assert "We emailed them the link" in page
    (sent,) = mail.outbox
    assert sent.to == ["bob@example.com"]
    assert "Alice invited you to Shop" in sent.subject
    link = re.search(r'data-copy="(http://testserver/invitations/[^"/]+/)"', page)
    assert link and link.group(1) in sent.body  # the same link as the page shows, once
    assert "as operator" in sent.body


def test_a_mail_server_that_refuses_leaves_the_link_to_send_and_the_invitation_kept(
    owner: tuple[Client, str], settings: SettingsWrapper
) -> None:
    settings.INVITATION_EMAILS = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    page = _invite_page(owner)
    assert "The email was not sent (the mail server did not accept it)" in page
    assert 'data-testid="invitation-link"' in page
    assert Invitation.objects.filter(email="bob@example.com").count() == 1


def test_without_a_mail_server_nothing_is_emailed_and_the_owner_sends_the_link(
    owner: tuple[Client, str], settings: SettingsWrapper
) -> None:
    settings.INVITATION_EMAILS = False
    page = _invite_page(owner)
    assert "Send them the link below" in page and not mail.outbox
