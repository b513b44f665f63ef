"""A limit on how many objects a query may ask for, estimated before it runs: each field counts
once per object its parents may return, and a list multiplies what is under it by its `first`
argument (or the server's default page size, or a fixed estimate for lists without one). Depth,
alias and token limits bound a document's size, not its fan-out: `complaints(first: 100) {
nodes { timeline(first: 200) { nodes { complaint { timeline(first: 200) … } } } } }` is small
and shallow, and asks for four million events."""

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from kilas.guard.validation import too_complex

# What a list without a `first` argument is taken to hold. Such lists hold what staff made (an
# OPD's social accounts, a programme's work items, a work item's linked complaints, the 35
# regions), not what a caller asks for: the fan-out a caller controls is `first`.
LIST_ESTIMATE = 10


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


class _Estimate:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        default_page_size: int,
        largest_page: int,
        cap: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page_size = default_page_size
        self.largest_page = largest_page
        self.cap = cap

    def _first(self, node: FieldNode) -> int | None:
        """The page asked for, within what a field can serve: a `first` beyond it is refused by
        the field itself, with a message that says which sizes are allowed."""
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            given: object = None
            if isinstance(value, IntValueNode):
                given = int(value.value)
            elif isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return max(1, min(given, self.largest_page))
            return None
        return None

    def _fields(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType]]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                inner = parent
                if selection.type_condition is not None:
                    inner = self.schema.get_type(selection.type_condition.name.value) or parent
                yield from self._fields(selection.selection_set, inner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                inner = self.schema.get_type(fragment.type_condition.name.value) or parent
                yield from self._fields(fragment.selection_set, inner, seen | {name})

    def cost(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, multiplier: int
    ) -> int:
        """The objects this selection set asks for, each counted `multiplier` times; stops
        counting once past the cap."""
        total = 0
        for node, owner in self._fields(selection_set, parent, frozenset()):
            if node.name.value.startswith("__"):
                # __typename, and introspection, which the schema's own size bounds (and
                # production turns off).
                total += multiplier
                continue
            if not isinstance(owner, GraphQLObjectType) or node.name.value not in owner.fields:
                total += multiplier  # a field of an interface: one value each
                continue
            field = owner.fields[node.name.value]
            named = get_named_type(field.type)
            times = multiplier
            first = self._first(node)
            if named.name.endswith("Connection"):
                times *= first if first is not None else self.default_page_size
            elif _is_list(field.type) and not (
                isinstance(owner, GraphQLObjectType) and owner.name.endswith("Connection")
            ):
                # A connection's own `nodes`/`edges` are counted by the connection's `first`.
                times *= first if first is not None else LIST_ESTIMATE
            total += times
            if node.selection_set is not None and total <= self.cap:
                total += self.cost(node.selection_set, named, times)
            if total > self.cap:
                return total
        return total


class QueryCost(SchemaExtension):
    """Refuses, before execution, an operation estimated to ask for more than `max_cost`
    objects (QUERY_TOO_COMPLEX, limit "cost"). The refusal is a validation error, as the depth
    and alias limits are, so that every transport reports it alike (over a WebSocket, an
    `error` for the operation). It follows strawberry's ValidationCache, whose errors it reads:
    a document that is invalid already is not estimated."""

    def __init__(self, max_cost: int, default_page_size: int, largest_page: int) -> None:
        self.max_cost = max_cost
        self.default_page_size = default_page_size
        self.largest_page = largest_page

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            schema = context.schema._schema
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            estimate = _Estimate(
                schema,
                fragments,
                context.variables or {},
                self.default_page_size,
                self.largest_page,
                self.max_cost,
            )
            for operation in document.definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                if (
                    context.operation_name
                    and operation.name
                    and (operation.name.value != context.operation_name)
                ):
                    continue
                root = schema.get_root_type(operation.operation)
                if root is None:
                    continue
                cost = estimate.cost(operation.selection_set, root, 1)
                if cost > self.max_cost:
                    # strawberry validates no further once errors are set.
                    context.pre_execution_errors = [
                        too_complex(
                            f"it may ask for more than {self.max_cost} objects (about {cost} or "
                            "more); ask for smaller pages or fewer nested lists",
                            "cost",
                            self.max_cost,
                        )
                    ]
                    break
        yield
