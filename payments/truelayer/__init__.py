"""TrueLayer payment links and webhooks.

- `client`: the only code that speaks HTTP to TrueLayer (token, request signing, errors);
- `provider`: the `PaymentLinkProvider` protocol; the class is named by `TRUELAYER_PROVIDER`
  (TrueLayer, or the local simulator, which this package never imports);
- `webhooks`: `Tl-Signature` verification against an allow-listed JWKS;
- `keys`: loading the signing key from settings.
"""
