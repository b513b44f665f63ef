"""Assembles the one Kilas schema from the root fields in `resolvers`."""

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import AddValidationRules, SchemaExtension, ValidationCache
from strawberry.federation import Schema as FederationSchema
from strawberry.federation.schema import FederationAny
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import create_type
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.info import Info as StrawberryInfo

from kilas.db.events import MAX_TIMELINE_PAGE
from kilas.guard.cost import QueryCost
from kilas.guard.errors import ErrorCodes, MaskUnexpected, faults
from kilas.guard.validation import (
    ExecutionWithoutSuggestions,
    HideSuggestions,
    LimitedParser,
    NoIntrospection,
    QueryLimits,
)
from kilas.resolvers import (
    access_log,
    admin_mutations,
    api_keys,
    channels,
    complaint_mutations,
    open_alerts,
    performance,
    queries,
    subscriptions,
    webhooks,
)
from kilas.resolvers.enforce import enforce
from kilas.schema.complaints import Complaint, ComplaintEvent
from kilas.schema.decimals import SCALARS
from kilas.schema.extensions import RejectInvalidText
from kilas.schema.federation import ENTITIES, MAX_REPRESENTATIONS
from kilas.schema.programmes import Programme, WorkItem
from kilas.schema.reference import Category, Opd, Region, SlaPolicy, SocialAccount

Query = create_type(
    "Query",
    queries.QUERIES
    + open_alerts.QUERIES
    + performance.QUERIES
    + access_log.QUERIES
    + api_keys.QUERIES
    + channels.QUERIES
    + webhooks.QUERIES,
)
Mutation = create_type(
    "Mutation",
    complaint_mutations.MUTATIONS
    + admin_mutations.MUTATIONS
    + api_keys.MUTATIONS
    + channels.MUTATIONS
    + webhooks.MUTATIONS,
)
Subscription = create_type("Subscription", subscriptions.SUBSCRIPTIONS)

# Types reachable only through the Node interface must be named to be in the schema.
NODE_TYPES = [Complaint, ComplaintEvent, Opd, Region, Category, SlaPolicy, SocialAccount,
              Programme, WorkItem]  # fmt: skip


def _unexpected(error: GraphQLError) -> bool:
    """Expected failures carry a code; anything else raised by our code is masked. A
    GraphQLError is graphql-core's or strawberry's own report (a variable of the wrong type,
    say): its message is for the client."""
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, GraphQLError)
        and not getattr(original, "extensions", None)
    )


class KilasSchema(FederationSchema):
    # The compiled read path's answer to a query it has admitted before (compiler.run): the
    # same answer as the pipeline below, without running it again.
    answer_directly: Callable[..., Awaitable[Any]] | None = None
    # An event-stream subscription run as a member of its cohort (compiler.cohort).
    run_as_member: Callable[..., Awaitable[bool]] | None = None

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # A subscription sent as a plain HTTP request would run its root field once as a query
        # and fail as an internal error; it belongs on the WebSocket (strawberry's streaming
        # transports call `stream`/`subscribe`, not this).
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        if (
            self.answer_directly is not None
            and query is not None
            and getattr(context_value, "compiled_reads", False)
        ):
            answered = await self.answer_directly(
                self, query, variable_values, context_value, operation_name
            )
            if answered is not None:
                return ExecutionResult(data=answered.data, errors=answered.errors)
        return await super().execute(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            allowed_operation_types=allowed,
            operation_extensions=operation_extensions,
        )

    def entities_resolver(
        self, info: StrawberryInfo, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """`_entities` for a federation gateway: Kilas's entity types only (schema/federation.py),
        each resolved by the rules of `node(id:)`; anything else is an error of its own item."""
        if len(representations) > MAX_REPRESENTATIONS:
            raise GraphQLError(
                f"at most {MAX_REPRESENTATIONS} representations in one _entities call",
                extensions={"code": "INVALID_INPUT"},
            )
        results: list[Any] = []  # objects, or each item's error
        for representation in representations:
            type_name = (
                representation.get("__typename") if isinstance(representation, dict) else None
            )
            if type_name not in ENTITIES:
                results.append(
                    GraphQLError(
                        f"not an entity of this subgraph: {type_name!r} (it has "
                        f"{', '.join(ENTITIES)})",
                        extensions={"code": "INVALID_INPUT"},
                    )
                )
                continue
            copied = FederationAny(dict(cast(dict[str, Any], representation)))
            results.extend(super().entities_resolver(info, [copied]))
        return results

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures and clients' mistakes are not faults: logging each with a traceback
        # would bury the real ones.
        super().process_errors(faults(errors), execution_context)


def build_schema(
    *,
    production: bool = False,
    introspection: bool = True,
    limits: QueryLimits | None = None,
) -> Schema:
    # The compiler reads the types this package defines: imported once they are.
    from kilas.compiler import CompiledReads, answer_directly
    from kilas.compiler.cohort import run_as_member

    if limits is None:  # the settings' defaults
        from kilas.settings import Settings

        limits = Settings().query_limits
    rules = limits.rules() if introspection else [*limits.rules(), NoIntrospection]
    if production:
        rules.append(HideSuggestions)
    # strawberry's parser and validation caches are unbounded unless given a size.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: LimitedParser(max_tokens=limits.tokens),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(rules),
        RejectInvalidText,
        lambda: QueryCost(
            limits.cost,
            limits.default_page_size,
            largest_page=max(limits.max_page_size, MAX_TIMELINE_PAGE),
        ),
        ErrorCodes,
        # Last: it answers queries once every guard above has let them through.
        CompiledReads,
    ]
    if production:
        extensions.append(lambda: MaskUnexpected(should_mask_error=_unexpected))
    schema = KilasSchema(
        # An Apollo Federation v2 subgraph (schema/federation.py); 2.5 composes with every
        # Federation 2 gateway since mid-2023.
        federation_version="2.5",
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
        scalar_overrides=dict(SCALARS),
        execution_context_class=ExecutionWithoutSuggestions if production else None,
    )
    # Every field's access rule (auth.rules), applied by one layer; a field without one fails.
    enforce(schema)
    schema.answer_directly = answer_directly
    schema.run_as_member = run_as_member
    return schema
