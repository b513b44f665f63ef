"""Subscription payloads as SQL: the selection a `complaintEvents` or `slaAlerts` subscriber
asked for, compiled into one statement that builds the `next` payload of many events at once.
live/cohorts.py runs it once per cohort and batch of events, for all the cohort's members."""

import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import VariableValues
from strawberry import Schema

from kilas.auth.caller import Caller, Role
from kilas.compiler.fields import FIELDS
from kilas.compiler.objects import Ctx, Row, Sel
from kilas.compiler.plan import fragments_of
from kilas.compiler.run import unmark
from kilas.compiler.sql import (
    ERROR_KEY,
    Bind,
    ErrorTemplate,
    Getter,
    Statement,
    Unsupported,
    json_object,
)
from kilas.db.pool import Connection

# The subscription fields whose payload is a ComplaintEvent of the event log.
EVENT_STREAMS = frozenset({"complaintEvents", "slaAlerts"})
_EVENT_IDS = "event ids"
# The caller's facts a statement may read beyond its policy class (role, OPD, region): the
# subject (the access log, a submitter's own tracking number) and the address (the access log).
_PERSONAL_FACTS = ("subject", "address")


@dataclass(frozen=True)
class EventPlan:
    """`sql` returns (event id, the `next` payload's `data` as JSON text) of the events whose
    ids it is given, in cursor order."""

    key: str
    sql: str
    getters: tuple[Getter, ...]
    errors: tuple[ErrorTemplate, ...]
    # Which of the caller's personal facts the statement reads: they join the cohort's key.
    reads: tuple[str, ...]

    def caller_key(self, caller: Caller) -> Hashable:
        """What of the caller decides the payloads: its policy class and scope, and the facts
        the statement reads. Callers with equal keys receive the same bytes."""
        facts = {"subject": caller.subject, "address": caller.address}
        return (
            caller.role,
            caller.opd_id,
            caller.region_code,
            tuple(facts[name] for name in self.reads),
        )

    def bind(
        self, variables: VariableValues, caller: Caller, now: Any, settings: Any, ids: list[int]
    ) -> Bind:
        """The parameters' sources for the payloads of the events `ids`."""
        return Bind(variables, caller, now, settings, {_EVENT_IDS: ids})

    def check(self, bind: Bind) -> None:
        """Raises Unsupported when an argument would not bind (strawberry then reports it)."""
        try:
            for getter in self.getters:
                getter(bind)
        except Exception as error:
            raise Unsupported(f"an argument does not bind: {error}") from error

    async def render(self, conn: Connection, bind: Bind) -> list[tuple[int, str]]:
        rows = await conn.fetch(self.sql, *(getter(bind) for getter in self.getters))
        return [(int(event_id), self._payload(text)) for event_id, text in rows]

    def _payload(self, text: str) -> str:
        """The `next` message's payload: the data as PostgreSQL wrote it, or, where the
        statement refused a value (a marker in its place), the value nulled and the error
        reported at its path, as strawberry's execution reports it."""
        if not self.errors or ERROR_KEY not in text:
            return '{"data":' + text + "}"
        errors: list[GraphQLError] = []
        data = {self.key: unmark(json.loads(text)[self.key], [self.key], self.errors, errors)}
        return json.dumps({"data": data, "errors": [error.formatted for error in errors]})


def compile_events(
    schema: GraphQLSchema,
    strawberry: Schema,
    operation: OperationDefinitionNode,
    fragments: dict[str, Any],
    variables: VariableValues,
    role: Role,
) -> EventPlan:
    """The plan of a subscription operation with one root field, an event stream; Unsupported
    for anything else (strawberry runs those for each subscriber)."""
    subscription = schema.subscription_type
    if subscription is None or operation.operation is not OperationType.SUBSCRIPTION:
        raise Unsupported("not a subscription")
    details = fragments_of(DocumentNode(definitions=tuple(fragments.values())))
    collected = collect_fields(schema, details, variables, subscription, operation)
    if collected.new_defer_usages:
        raise Unsupported("@defer")
    if len(collected.grouped_field_set) != 1:
        raise Unsupported("not one root field")
    ((key, field_details),) = collected.grouped_field_set.items()
    name = field_details[0].node.name.value
    definition = subscription.fields.get(name)
    if name not in EVENT_STREAMS or definition is None:
        raise Unsupported(f"Subscription.{name} is not an event stream")
    st = Statement(role)
    ids = st.param(lambda b: b.memo[_EVENT_IDS], "bigint[]")
    ctx = Ctx(schema, strawberry, details, variables, operation, st, FIELDS)
    root = Sel(key, field_details, definition, "Subscription")
    built = ctx.object("ComplaintEvent", Row("e"), root)
    sql = (
        f"SELECT e.id, {json_object([(key, built)])}::text FROM complaint_events e "
        f"WHERE e.id = ANY({ids}) ORDER BY e.id"
    )
    reads = tuple(name for name in _PERSONAL_FACTS if st.reads(name))
    return EventPlan(key, sql, tuple(st.getters), tuple(st.errors), reads)
