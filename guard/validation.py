"""Limits on the shape of a GraphQL document, checked before anything runs: its depth, its
aliases (each one runs its field once more), its tokens (counted while parsing, so an oversized
document is never parsed whole), introspection where it is turned off, and where suggestions
("Did you mean …?") are turned off."""

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    parse,
)
from graphql.validation import ASTValidationRule, ValidationContext
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"


@dataclass(frozen=True)
class QueryLimits:
    """The limits a schema is built with: the settings' (`Settings.query_limits`), declared and
    defaulted there only."""

    depth: int
    aliases: int
    tokens: int
    # Objects a query may ask for (guard/cost.py), and the page size a connection without
    # `first` returns.
    cost: int
    default_page_size: int
    max_page_size: int

    def rules(self) -> list[type[ASTValidationRule]]:
        # Made once per schema: the validation cache is keyed by the rule classes.
        return [depth_rule(self.depth), alias_rule(self.aliases)]


def too_complex(message: str, limit: str, maximum: int) -> GraphQLError:
    return GraphQLError(
        f"the query is too complex: {message}",
        extensions={"code": TOO_COMPLEX, "limit": limit, "max": maximum},
    )


Fragments = Mapping[str, FragmentDefinitionNode]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


class _Measure:
    """Walks selection sets through fragments, each fragment measured once: a chain of
    fragments that each spread the next twice must not make the walk itself exponential.
    Unknown and cyclic fragments count as empty; other rules report them."""

    def __init__(self, fragments: Fragments, cap: int) -> None:
        self.fragments = fragments
        self.cap = cap
        self.depths: dict[str, int] = {}
        self.aliases: dict[str, int] = {}

    def depth(self, selection_set: SelectionSetNode | None) -> int:
        deepest = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                below = self.depth(node.selection_set)
                # A chain of `ofType` only unwraps list and non-null types (GraphiQL's own
                # introspection query nests nine of them); it cannot fan out.
                depth = below if node.name.value == "ofType" else below + 1
            elif isinstance(node, InlineFragmentNode):
                depth = self.depth(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                depth = self._fragment(node.name.value, self.depths, self.depth)
            else:  # pragma: no cover - graphql-core has no other selection
                depth = 0
            deepest = max(deepest, min(depth, self.cap + 1))
        return deepest

    def alias_count(self, selection_set: SelectionSetNode | None) -> int:
        count = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                count += (node.alias is not None) + self.alias_count(node.selection_set)
            elif isinstance(node, InlineFragmentNode):
                count += self.alias_count(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                count += self._fragment(node.name.value, self.aliases, self.alias_count)
            if count > self.cap:
                return count
        return count

    def _fragment(
        self, name: str, memo: dict[str, int], measure: Callable[[SelectionSetNode], int]
    ) -> int:
        if name not in memo:
            fragment = self.fragments.get(name)
            memo[name] = 0  # while it is being measured: a cycle counts as empty
            memo[name] = measure(fragment.selection_set) if fragment else 0
        return memo[name]


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class MaxDepth(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            measure = _Measure(_fragments(node), max_depth)
            for operation in _operations(node):
                depth = measure.depth(operation.selection_set)
                if depth > max_depth:
                    name = operation.name.value if operation.name else "the operation"
                    self.report_error(
                        too_complex(
                            f"{name} nests fields more than {max_depth} levels deep",
                            "depth",
                            max_depth,
                        )
                    )

    return MaxDepth


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    class MaxAliases(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            measure = _Measure(_fragments(node), max_aliases)
            count = sum(measure.alias_count(op.selection_set) for op in _operations(node))
            if count > max_aliases:
                self.report_error(
                    too_complex(
                        f"more than {max_aliases} aliases (each alias runs its field again)",
                        "aliases",
                        max_aliases,
                    )
                )

    return MaxAliases


class NoIntrospection(ValidationRule):
    """Refuses `__schema` and `__type`; `__typename` stays allowed, clients rely on it."""

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    "introspection is turned off on this server (KILAS_INTROSPECTION); "
                    "the schema is published as schema.graphql",
                    node,
                    extensions={"code": INTROSPECTION_DISABLED},
                )
            )


class HideSuggestions(ValidationRule):
    """No "Did you mean …?" in validation errors: with introspection off, suggestions would
    still spell out the schema's field, argument and type names one guess at a time. graphql-core
    has the flag (`validate(hide_suggestions=True)`) but strawberry does not pass it: every rule
    reads it from the one context they share, which this rule sets as it is made.
    tests/test_production_mode.py fails if a graphql-core upgrade renames it."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        context._hide_suggestions = True


class ExecutionWithoutSuggestions(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, with no "Did you mean …?" in the errors of coercing variables."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        return super().build(*args, **{**kwargs, "hide_suggestions": True})


# Comments and blanks are not tokens: a long text may still parse into a small document, and
# is not worth keeping. Real queries are far shorter.
CACHED_QUERY_CHARS = 16 * 1024


@lru_cache(maxsize=512)
def _cached_parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def _parse(query: str, max_tokens: int) -> DocumentNode:
    if len(query) > CACHED_QUERY_CHARS:
        return parse(query, max_tokens=max_tokens)
    return _cached_parse(query, max_tokens)


class LimitedParser(SchemaExtension):
    """strawberry's ParserCache with a token limit. A document it cannot parse is left to
    strawberry's own parse (with the same limit), which reports the error the way each
    transport expects: an error raised here would escape a WebSocket operation unreported."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        if context.query is not None:
            # On failure, strawberry's parse reports the error (see above).
            with contextlib.suppress(Exception):
                context.graphql_document = _parse(context.query, self.max_tokens)
        yield
