"""Errors the payments data layer raises. Callers never see raw botocore errors: each of these
carries a message that can be shown to a merchant or an operator as it is, and the `title` and
HTTP `status` the error middleware answers with (`retry_after` seconds when worth retrying)."""

from __future__ import annotations


class RepositoryError(Exception):
    """Base class: something went wrong talking to the payments database."""

    message = "The payments database could not complete the request."
    title = "Payments database error"
    status = 503
    retry_after: int | None = None

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class DatabaseUnavailable(RepositoryError):
    """No answer from the payments database. For a read, or a write that was never sent,
    nothing was changed. With `outcome_unknown` a write was sent and its answer never came: it
    may have been applied, so the message says that we do not know, never "nothing was
    changed"."""

    message = (
        "The payments database cannot be reached right now. Nothing was changed; try again shortly."
    )
    unknown_message = (
        "The payments database did not answer in time, so we could not confirm whether the "
        "change was saved. Check the payment (or the payments list) before trying again."
    )
    title = "Payments database unavailable"
    unknown_title = "Payments database did not answer"

    def __init__(self, message: str | None = None, *, outcome_unknown: bool = False) -> None:
        super().__init__(message or (self.unknown_message if outcome_unknown else None))
        self.outcome_unknown = outcome_unknown
        if outcome_unknown:
            self.title = self.unknown_title


class CredentialsRefused(DatabaseUnavailable):
    message = (
        "The payments database refused our credentials. "
        "An operator needs to check the AWS settings."
    )


class Throttled(RepositoryError):
    message = "The payments database is busy right now. Nothing was changed; try again in a moment."
    title = "Payments database busy"
    retry_after = 2


class TableMissing(RepositoryError):
    message = (
        "The payments table does not exist yet. An operator needs to run "
        "`python manage.py init_dynamodb`."
    )
    title = "Payments table missing"


class Conflict(RepositoryError):
    message = "The payment was changed by someone else at the same time. Try again."
    title = "Changed at the same time"
    status = 409


class InvalidCursor(RepositoryError):
    message = (
        "That page link is not valid (it was changed or belongs to another view or merchant). "
        "Start again from the first page."
    )
    title = "Page link not valid"
    status = 400


class DuplicateSubmission(RepositoryError):
    """The same form submission was received twice; the first one created `payment_id`."""

    message = "This payment was already created."
    title = "Already created"
    status = 409

    def __init__(self, payment_id: str) -> None:
        super().__init__()
        self.payment_id = payment_id
