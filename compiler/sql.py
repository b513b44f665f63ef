"""The pieces a compiled statement is made of: its parameters (bound per request, never
interpolated), the request's facts they are read from, and the JSON builders."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import FieldNode
from graphql.execution.values import VariableValues

from kilas.auth.caller import Caller, Role
from kilas.auth.policy import SEES_ALL, visibility
from kilas.db.complaints import VISIBILITY_NAMES, visible_sql
from kilas.db.sql import renumbered
from kilas.domain.errors import DomainError


class Unsupported(Exception):
    """A field or shape the compiler does not cover: that root field falls back to strawberry's
    execution."""


@dataclass
class Bind:
    """What a plan's parameters are read from, once per request."""

    variables: VariableValues
    caller: Caller
    now: datetime
    settings: Any
    # Values several parameters share (a filter's fourteen arguments, say), by getter.
    memo: dict[Any, Any] = field(default_factory=dict)

    def once(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]


Getter = Callable[[Bind], Any]


@dataclass(frozen=True)
class ErrorTemplate:
    """An error the statement reports by putting `{"$kilas_error": n}` where a value would be:
    the field's nodes (its locations: every node merged under the key) and the domain error
    it raises."""

    nodes: tuple[FieldNode, ...]
    error: DomainError


# The marker's key: an alias or field name cannot hold "$", so no data key is ever this one.
ERROR_KEY = "$kilas_error"


@dataclass
class Statement:
    """One root field's statement as it is being compiled: its parameters, in order, and the
    errors it may report."""

    role: Role
    getters: list[Getter] = field(default_factory=list)
    errors: list[ErrorTemplate] = field(default_factory=list)
    # What must hold of a request for the statement to answer it as compiled (the shape of the
    # request's filter, its page size): each raises otherwise, and strawberry answers instead.
    checks: list[Getter] = field(default_factory=list)
    _shared: dict[str, str] = field(default_factory=dict)
    _aliases: int = 0

    def param(self, getter: Getter, cast: str) -> str:
        self.getters.append(getter)
        return f"${len(self.getters)}::{cast}"

    def shared(self, name: str, getter: Getter, cast: str) -> str:
        """A parameter used in many places of the statement, bound once."""
        if name not in self._shared:
            self._shared[name] = self.param(getter, cast)
        return self._shared[name]

    def reads(self, name: str) -> bool:
        """Whether the statement binds the shared parameter `name` (a caller's fact, say)."""
        return name in self._shared

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def error(self, nodes: tuple[FieldNode, ...], error: DomainError) -> str:
        self.errors.append(ErrorTemplate(nodes, error))
        return f"json_build_object('{ERROR_KEY}', {len(self.errors) - 1})"

    # The caller's facts, as parameters.
    def now(self) -> str:
        return self.shared("now", lambda b: b.now, "timestamptz")

    def caller_opd(self) -> str:
        return self.shared("opd", lambda b: b.caller.opd_id, "bigint")

    def caller_subject(self) -> str:
        return self.shared("subject", lambda b: b.caller.subject, "text")

    def caller_role(self) -> str:
        return self.shared("role", lambda b: b.caller.role.value, "text")

    def caller_address(self) -> str:
        return self.shared("address", lambda b: b.caller.address, "text")

    def visible(self, alias: str, holder: str | None = None) -> str:
        """`auth.policy.visibility` of the caller applied to complaint `alias` (the rule lists
        use, proven equal to `can_see_complaint`); `holder` as in `db.complaints.visible_sql`."""
        if self.role in SEES_ALL:
            return "true"
        if self.role is Role.PUBLIC:
            # `visibility` of the public, Visibility(non_confidential=True), with its constants
            # folded in: a statement without parameters is planned once and kept.
            return f"NOT {alias}.confidential"
        if "visibility" not in self._shared:
            start = len(self.getters) + 1

            def args(b: Bind) -> list[Any]:
                found: list[Any] = b.once("visibility", lambda: visibility(b.caller).args())
                return found

            self.getters.extend(item(args, index) for index in range(len(VISIBILITY_NAMES)))
            self._shared["visibility"] = str(start)
        return renumbered(
            visible_sql(alias, holder), VISIBILITY_NAMES, int(self._shared["visibility"])
        )


def item(getter: Callable[[Bind], list[Any]], index: int) -> Getter:
    """The `index`th of the values `getter` reads."""
    return lambda b: getter(b)[index]


def json_object(pairs: list[tuple[str, str]]) -> str:
    """`json_build_object` of (key, SQL expression) pairs, in order; keys are GraphQL names
    (letters, digits, underscores), so they need no escaping."""
    if len(pairs) > 50:
        # json_build_object takes at most 100 arguments.
        raise Unsupported("more than 50 fields in one object")
    inner = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"json_build_object({inner})"


def json_list(element: str, source: str, order: str) -> str:
    """The JSON array of `element` over the rows of `source` (FROM … WHERE …), `[]` for none."""
    return f"coalesce((SELECT json_agg({element} ORDER BY {order}) FROM {source}), '[]'::json)"


def literal(text: str) -> str:
    """A constant string from Kilas's own code (type and enum names), as SQL."""
    return "'" + text.replace("'", "''") + "'"
