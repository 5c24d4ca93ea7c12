"""Search tokens: what a payment can be found by, and what a search text asks for. No storage.

A payment is indexed under a small set of tokens (`payment_tokens`), written with it in one
transaction (`payments.dynamo.search_index`); a search looks one token up and checks the rest of
its terms on the payments it reads (`SearchTerms.matches`). Both sides use the same rules:

- text is folded: Unicode NFKD with accents removed, then case-folded (`Café` → `cafe`);
- words are the runs of letters and digits (`INV-1042/b` → `inv`, `1042`, `b`);
- a word is indexed under each of its prefixes from `MIN_PREFIX` to `MAX_PREFIX` characters
  (`smith` → `sm`, `smi`, `smit`, `smith`); a longer word under its first `MAX_PREFIX`
  characters, and the rest of a longer search word is checked on the payment read;
- the reference's and the payer name's words, and the words of the email's local part;
- the payer email whole, its local part (`alice@`) and its domain (`@example.com`), exact;
- the tail of the payment id that the list shows (`short_id`: `01JD…K3F9QZ` → `k3f9qz`), exact;
- the amount, exact, with the currency's two decimals (`12.5` → `12.50`), any currency.

A payment has at most `MAX_TOKENS` tokens (exact ones and whole words first, then prefixes
shortest first), so its creation stays one transaction well inside DynamoDB's 100 actions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Context, Decimal

MIN_PREFIX = 2
MAX_PREFIX = 10
MAX_TOKENS = 64
# `formatting.short_id` shows the first 4 and the last 6 characters of the id.
SHORT_ID_HEAD = 4
SHORT_ID_TAIL = 6

_WORD_RE = re.compile(r"[^\W_]+")
_CENTS = Decimal("0.01")
_WIDE = Context(prec=80)

WORD = "w:"
AMOUNT = "a:"
EMAIL = "e:"


def fold(text: str) -> str:
    """Accents removed and case folded, so `Zoë`, `ZOE` and `zoe` are one word."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold()


def words(text: str) -> list[str]:
    """The folded runs of letters and digits of `text`, in order."""
    return _WORD_RE.findall(fold(text))


def amount_token(amount: Decimal) -> str:
    # A wide context: a searched number may have 38 digits (no payment has; nothing is found).
    return AMOUNT + format(amount.quantize(_CENTS, context=_WIDE), "f")


def word_token(word: str) -> str:
    """The token a search word is looked up by (its first `MAX_PREFIX` characters)."""
    return WORD + word[:MAX_PREFIX]


def short_id_tail(payment_id: str) -> str:
    return payment_id[-SHORT_ID_TAIL:].casefold()


def _email_parts(email: str) -> tuple[str, str, str] | None:
    folded = fold(email.strip())
    local, at, domain = folded.rpartition("@")
    if not at or not local or not domain:
        return None
    return folded, local, domain


def payment_tokens(
    *, payment_id: str, amount: Decimal, reference: str, payer_name: str, payer_email: str
) -> list[str]:
    """Every token the payment is indexed under, exact tokens and whole words first, then
    word prefixes shortest first, without repeats, at most `MAX_TOKENS`."""
    exact = [amount_token(amount), WORD + short_id_tail(payment_id)]
    email = _email_parts(payer_email)
    texts = [reference, payer_name]
    if email is not None:
        address, local, domain = email
        exact += [EMAIL + address, EMAIL + local + "@", EMAIL + "@" + domain]
        texts.append(local)
    whole: list[str] = []
    prefixes: list[tuple[int, str]] = []
    for text in texts:
        for word in words(text):
            if len(word) >= MIN_PREFIX:
                whole.append(word_token(word))
            for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX)):
                prefixes.append((n, WORD + word[:n]))
    # Over the cap, whole words are kept before the prefixes typing goes through.
    ordered = exact + whole + [token for _, token in sorted(prefixes, key=lambda p: p[0])]
    return list(dict.fromkeys(ordered))[:MAX_TOKENS]


def _prefix_words(reference: str, payer_name: str, payer_email: str) -> list[str]:
    """The words indexed by their prefixes (the short id's tail is indexed whole only)."""
    email = _email_parts(payer_email)
    return [*words(reference), *words(payer_name), *words(email[1] if email else "")]


@dataclass(frozen=True)
class SearchTerms:
    """What a search text asks for: an exact amount, an email (whole, `local@` or `@domain`)
    or words (each must start a word of the payment). A payment matches when it has the amount,
    or the email, or every word. `lookups` are the tokens whose entries are read, newest
    first, merged."""

    amount: Decimal | None = None
    email: str | None = None
    terms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def lookups(self) -> list[str]:
        tokens: list[str] = []
        if self.amount is not None:
            tokens.append(amount_token(self.amount))
        if self.email is not None:
            tokens.append(EMAIL + self.email)
        if self.terms:
            # The longest word is the rarest guess; the others are checked on the payment.
            tokens.append(word_token(max(self.terms, key=len)))
        return tokens

    @property
    def is_empty(self) -> bool:
        return self.amount is None and self.email is None and not self.terms

    def matches(
        self,
        *,
        payment_id: str,
        amount: Decimal,
        reference: str,
        payer_name: str,
        payer_email: str,
    ) -> bool:
        if self.amount is not None and amount == self.amount:
            return True
        if self.email is not None:
            parts = _email_parts(payer_email)
            if parts is not None and self.email in (parts[0], parts[1] + "@", "@" + parts[2]):
                return True
        if self.terms:
            have = _prefix_words(reference, payer_name, payer_email)
            # The short id as a row shows it (`01JD…K3F9QZ`): its tail is indexed, its head (a
            # timestamp many payments share) only checked.
            shown = (short_id_tail(payment_id), payment_id[:SHORT_ID_HEAD].casefold())
            return all(
                term in shown or any(w.startswith(term) for w in have) for term in self.terms
            )
        return False


def search_terms(text: str, amount: Decimal | None) -> SearchTerms:
    """The terms of a search text. `amount` is the text read as an amount (or None): a bare
    number (`1042`) is searched as an amount and as a word; `12.50` or `£12` as an amount only."""
    folded = fold(text.strip())
    if "@" in folded and not any(c.isspace() for c in folded):
        local, _, domain = folded.rpartition("@")
        if local and domain:
            return SearchTerms(email=folded)
        if local or domain:
            return SearchTerms(email=f"{local}@{domain}")
    found = [w for w in words(folded) if len(w) >= MIN_PREFIX]
    if amount is not None and not folded.isdigit():
        return SearchTerms(amount=amount)
    return SearchTerms(amount=amount, terms=tuple(dict.fromkeys(found)))
