"""The invitation email: the link an owner's invitation makes, sent to the invited address.

Sent through Django's mail backend (`EMAIL_*` settings: SMTP when `EMAIL_HOST` is set, the
console with DEBUG on). Without a mail server the owner sends the link themselves; either way
the link is shown once on the members page, so a lost email loses nothing.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from accounts.models import Invitation

logger = logging.getLogger(__name__)


def invitation_emails_enabled() -> bool:
    return bool(getattr(settings, "INVITATION_EMAILS", False))


def invitation_email_send(invitation: Invitation, *, link: str, inviter: str) -> str | None:
    """Email the invitation link; None when sent, else what went wrong (in words)."""
    context = {
        "account": invitation.account.name,
        "inviter": inviter,
        "role": invitation.get_role_display().lower(),
        "link": link,
        "expires_at": invitation.expires_at,
    }
    subject = f"{inviter} invited you to {invitation.account.name} on Payments"
    body = render_to_string("accounts/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email], fail_silently=False)
    except (smtplib.SMTPException, OSError) as error:  # OSError: refused, unreachable, timeout
        logger.warning("Invitation email to %s not sent: %r", invitation.email, error)
        return "the mail server did not accept it"
    return None
