"""Errors the payments repository raises. Callers never see raw botocore errors: each of these
carries a message that can be shown to a merchant or an operator as it is."""

from __future__ import annotations


class RepositoryError(Exception):
    """Base class: something went wrong talking to the payments database."""

    message = "The payments database could not complete the request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class DatabaseUnavailable(RepositoryError):
    message = (
        "The payments database cannot be reached right now. Nothing was changed; try again shortly."
    )


class CredentialsRefused(DatabaseUnavailable):
    message = (
        "The payments database refused our credentials. "
        "An operator needs to check the AWS settings."
    )


class Throttled(RepositoryError):
    message = "The payments database is busy right now. Nothing was changed; try again in a moment."


class TableMissing(RepositoryError):
    message = (
        "The payments table does not exist yet. An operator needs to run "
        "`python manage.py init_dynamodb`."
    )


class Conflict(RepositoryError):
    message = "The payment was changed by someone else at the same time. Try again."


class InvalidCursor(RepositoryError):
    message = (
        "That page link is not valid (it was changed or belongs to another view or merchant). "
        "Start again from the first page."
    )


class DuplicateSubmission(RepositoryError):
    """The same form submission was received twice; the first one created `payment_id`."""

    message = "This payment was already created."

    def __init__(self, payment_id: str) -> None:
        super().__init__()
        self.payment_id = payment_id
