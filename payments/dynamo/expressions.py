"""The one helper that builds DynamoDB expressions: `#n` placeholders for attribute names (so
reserved words such as `status` never reach an expression bare), `:v` placeholders for values,
`SET a = :a, …` / `ADD a :a, …` clauses, and the serialised arguments for the call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from payments.dynamo.items import serialize


class Expr:
    """Collects names and values while an expression is written; `kwargs()` gives the
    `ExpressionAttributeNames` / `ExpressionAttributeValues` for the request."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def name(self, attribute: str) -> str:
        """The placeholder of an attribute name (the same one each time it is asked for)."""
        for placeholder, known in self._names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self._names)}"
        self._names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        """A fresh placeholder for a value."""
        placeholder = f":v{len(self._values)}"
        self._values[placeholder] = value
        return placeholder

    def values(self, values: Any) -> str:
        """Comma-separated placeholders, e.g. for `IN (...)`."""
        return ", ".join(self.value(v) for v in values)

    def assignments(self, fields: Mapping[str, Any]) -> list[str]:
        """`#a = :a` for each field (the parts of a SET clause)."""
        return [f"{self.name(k)} = {self.value(v)}" for k, v in fields.items()]

    def additions(self, fields: Mapping[str, Any]) -> str:
        """`ADD #a :a, #b :b` (numbers added atomically)."""
        return "ADD " + ", ".join(f"{self.name(k)} {self.value(v)}" for k, v in fields.items())

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._names:
            out["ExpressionAttributeNames"] = dict(self._names)
        if self._values:
            out["ExpressionAttributeValues"] = serialize(self._values)
        return out


def set_clause(parts: list[str]) -> str:
    """`SET a, b, …` from assignments (and other SET actions such as `list_append`)."""
    return "SET " + ", ".join(parts)
