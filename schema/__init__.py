"""Assembles the one Kilas schema from the root fields in `resolvers`."""

from collections.abc import Callable

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import AddValidationRules, SchemaExtension, ValidationCache
from strawberry.tools import create_type
from strawberry.types import ExecutionContext

from kilas.guard.cost import QueryCost
from kilas.guard.errors import ErrorCodes, MaskUnexpected
from kilas.guard.validation import LimitedParser, NoIntrospection, QueryLimits
from kilas.resolvers import (
    access_log,
    admin_mutations,
    api_keys,
    complaint_mutations,
    performance,
    queries,
    subscriptions,
)
from kilas.schema.complaints import MAX_TIMELINE_PAGE, Complaint, ComplaintEvent
from kilas.schema.extensions import RejectNulCharacters
from kilas.schema.programmes import Programme, WorkItem
from kilas.schema.reference import Category, Opd, Region, SlaPolicy, SocialAccount

Query = create_type(
    "Query", queries.QUERIES + performance.QUERIES + access_log.QUERIES + api_keys.QUERIES
)
Mutation = create_type(
    "Mutation", complaint_mutations.MUTATIONS + admin_mutations.MUTATIONS + api_keys.MUTATIONS
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


class KilasSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures (a code in `extensions`: FORBIDDEN, INVALID_INPUT, …) are answers,
        # not faults: logging each with a traceback would bury the real ones.
        super().process_errors(
            [e for e in errors if not (e.extensions and "code" in e.extensions)],
            execution_context,
        )


def build_schema(
    *,
    production: bool = False,
    introspection: bool = True,
    limits: QueryLimits = QueryLimits(),
) -> Schema:
    rules = limits.rules() if introspection else [*limits.rules(), NoIntrospection]
    # strawberry's parser and validation caches are unbounded unless given a size.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: LimitedParser(max_tokens=limits.tokens),
        lambda: ValidationCache(maxsize=512),
        lambda: AddValidationRules(rules),
        RejectNulCharacters,
        lambda: QueryCost(
            limits.cost,
            limits.default_page_size,
            largest_page=max(limits.max_page_size, MAX_TIMELINE_PAGE),
        ),
        ErrorCodes,
    ]
    if production:
        extensions.append(lambda: MaskUnexpected(should_mask_error=_unexpected))
    return KilasSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
    )
