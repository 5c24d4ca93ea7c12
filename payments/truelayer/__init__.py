"""TrueLayer payment links and webhooks.

- `client`: the only code that speaks HTTP to TrueLayer (token, request signing, errors);
- `provider`: the `PaymentLinkProvider` protocol, chosen by `TRUELAYER_MODE` (TrueLayer or the
  local simulator);
- `webhooks`: `Tl-Signature` verification against an allow-listed JWKS;
- `keys`: loading the signing key from settings.
"""
