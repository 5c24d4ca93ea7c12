"""The Auth0 sign-in backend: social-core's Auth0 backend with PKCE added."""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from social_core.backends.auth0 import Auth0OAuth2
from social_core.backends.oauth import BaseOAuth2PKCE
from social_core.exceptions import AuthProviderError

# Tokens are only needed during the callback; nothing later calls Auth0 on the merchant's behalf.
_NOT_STORED = ("access_token", "id_token", "refresh_token", "token_type", "expires", "expires_in")


class Auth0PKCE(BaseOAuth2PKCE[Any], Auth0OAuth2[Any]):
    """Auth0 (`name = "auth0"`) with a PKCE S256 code challenge on every sign-in.

    Keeps the merchant's display name, email and picture in `UserSocialAuth.extra_data`
    for the header; `uid` is the id_token's `sub`, the merchant id of their payments.
    """

    name = "auth0"
    # The state travels in `state` only, so the redirect_uri is exactly the Allowed Callback URL.
    REDIRECT_STATE = False
    EXTRA_DATA = [("picture", "picture"), ("fullname", "name"), ("email", "email")]

    def auth_extra_arguments(self) -> dict[str, str]:
        """A re-confirmation (`reauth=1` posted by the "sign in again" page) makes Auth0 ask
        for credentials even with a live Auth0 session (`prompt=login`, `max_age`)."""
        extra = dict(super().auth_extra_arguments())
        if self.data.get("reauth") == "1":
            extra["prompt"] = "login"
            extra["max_age"] = str(settings.REFUND_REAUTH_MINUTES * 60)
        return extra

    def request(self, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        # social-core already turns network failures into AuthProviderError; this keeps any
        # requests error it might miss (an unreachable Auth0) on the friendly failure page.
        try:
            response: requests.Response = super().request(url, *args, **kwargs)
        except requests.RequestException as error:
            raise AuthProviderError(
                self, code="connection_failed", stage=kwargs.get("stage", "unknown")
            ) from error
        return response

    def extra_data(
        self,
        user: Any,
        uid: str,
        response: dict[str, Any],
        details: dict[str, Any],
        pipeline_kwargs: dict[str, Any],
    ) -> dict[str, Any]:
        data: dict[str, Any] = super().extra_data(user, uid, response, details, pipeline_kwargs)
        for key in _NOT_STORED:
            data.pop(key, None)
        # Set on every sign-in (never left from an earlier one): an invitation is accepted
        # only for the email Auth0 says is verified now.
        data["email"] = str(details.get("email") or "")
        data["email_verified"] = details.get("email_verified") is True
        return data
