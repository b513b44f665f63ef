"""Assembles the one Kilas schema from the root fields in `resolvers`."""

from collections.abc import Callable

from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import MaskErrors, ParserCache, SchemaExtension, ValidationCache
from strawberry.tools import create_type

from resolvers import admin_mutations, complaint_mutations, performance, queries, subscriptions
from schema.complaints import Complaint, ComplaintEvent
from schema.extensions import RejectNulCharacters
from schema.programmes import Programme, WorkItem
from schema.reference import Category, Opd, Region, SlaPolicy, SocialAccount

Query = create_type("Query", queries.QUERIES + performance.QUERIES)
Mutation = create_type("Mutation", complaint_mutations.MUTATIONS + admin_mutations.MUTATIONS)
Subscription = create_type("Subscription", subscriptions.SUBSCRIPTIONS)

# Types reachable only through the Node interface must be named to be in the schema.
NODE_TYPES = [Complaint, ComplaintEvent, Opd, Region, Category, SlaPolicy, SocialAccount,
              Programme, WorkItem]  # fmt: skip


def _unexpected(error: GraphQLError) -> bool:
    """Expected failures carry a code; anything else raised by our code is masked."""
    original = error.original_error
    return original is not None and not getattr(original, "extensions", None)


def build_schema(*, production: bool = False) -> Schema:
    # strawberry's parser and validation caches are unbounded unless given a size.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        RejectNulCharacters,
    ]
    if production:
        extensions.append(lambda: MaskErrors(should_mask_error=_unexpected))
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=extensions,
    )
