"""A validated operation compiled into one statement per root field, cached by what decides
the statements' shape: the document, the operation, the caller's role, and the values of the
few variables that change the SQL itself (`@include`/`@skip` conditions, a list's ordering, the
type a `node` id names, which filters are given) or the cost estimate (`first`). Every other
value is a parameter, bound per request."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_operation_ast,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList, FragmentDetails, collect_fields
from graphql.execution.values import VariableValues
from strawberry import Schema

from kilas.auth.caller import Role
from kilas.compiler.fields import FIELDS
from kilas.compiler.objects import Ctx, Sel
from kilas.compiler.roots import ROOTS
from kilas.compiler.sql import ErrorTemplate, Getter, Statement, Unsupported


@dataclass(frozen=True)
class RootPlan:
    """A root field answered by `sql` (its JSON as text) with parameters from `getters`."""

    key: str
    sql: str
    getters: tuple[Getter, ...]
    errors: tuple[ErrorTemplate, ...]
    # Run before the getters; each raises when the request is not one the statement answers.
    checks: tuple[Getter, ...] = ()


@dataclass(frozen=True)
class Fallback:
    """A root field strawberry answers, and why the compiler did not."""

    key: str
    details: FieldDetailsList
    reason: str


@dataclass(frozen=True)
class OperationPlan:
    roots: tuple[RootPlan | Fallback, ...]
    # The operation with only the fallback root fields, for strawberry; None when there are none.
    fallback_document: DocumentNode | None
    variable_definitions: tuple[VariableDefinitionNode, ...]

    @property
    def compiled(self) -> list[RootPlan]:
        return [root for root in self.roots if isinstance(root, RootPlan)]

    @property
    def fallbacks(self) -> list[Fallback]:
        return [root for root in self.roots if isinstance(root, Fallback)]


class _ShapeVariables(Visitor):
    """Where a variable changes the SQL (a directive's condition, `orderBy`, `node(id:)`; which
    of a list's filters and its `after` cursor are given, not their values) or the guards'
    verdict on the document (`first`, which the cost estimate reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        for argument in node.arguments or ():
            self._take(argument, "value")

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        for argument in node.arguments or ():
            # `first` changes no SQL, but the cost estimate the plan was admitted under.
            if argument.name.value in ("orderBy", "first"):
                self._take(argument, "value")
            elif argument.name.value == "id" and node.name.value == "node":
                self._take(argument, "node")
            elif argument.name.value in ("filter", "after"):
                self._given(argument.value)

    def _given(self, value: ValueNode) -> None:
        """Every variable in `value` (an input object's fields, a list's items)."""
        if isinstance(value, VariableNode):
            self.found.append((value.name.value, "given"))
        elif isinstance(value, ObjectValueNode):
            for each in value.fields:
                self._given(each.value)
        elif isinstance(value, ListValueNode):
            for item in value.values:
                self._given(item)

    def _take(self, argument: ArgumentNode, how: str) -> None:
        if isinstance(argument.value, VariableNode):
            self.found.append((argument.value.name.value, how))


def _shape_variables(document: DocumentNode) -> tuple[tuple[str, str], ...]:
    visitor = _ShapeVariables()
    visit(document, visitor)
    return tuple(sorted(set(visitor.found)))


def fragments_of(document: DocumentNode) -> dict[str, FragmentDetails]:
    return {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }


def compile_operation(
    schema: GraphQLSchema,
    strawberry: Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: VariableValues,
    role: Role,
    settings: Any = None,
) -> OperationPlan:
    operation = get_operation_ast(document, operation_name)
    query_type = schema.query_type
    if operation is None or query_type is None:
        raise Unsupported("no query operation")
    fragments = fragments_of(document)
    collected = collect_fields(schema, fragments, variables, query_type, operation)
    if collected.new_defer_usages:
        raise Unsupported("@defer")
    roots: list[RootPlan | Fallback] = []
    for key, details in collected.grouped_field_set.items():
        name = details[0].node.name.value
        if name == "__typename":
            roots.append(RootPlan(key, "SELECT '\"Query\"'::text", (), ()))
            continue
        compile_root = ROOTS.get(name)
        definition = query_type.fields.get(name)
        if compile_root is None or definition is None:
            roots.append(Fallback(key, details, f"Query.{name} is not compiled"))
            continue
        statement = Statement(role)
        ctx = Ctx(schema, strawberry, fragments, variables, operation, statement, FIELDS, settings)
        try:
            ctx.admit("Query", name)
            sql = compile_root(ctx, Sel(key, details, definition, "Query"))
        except Unsupported as error:
            roots.append(Fallback(key, details, str(error)))
            continue
        roots.append(
            RootPlan(
                key, sql, tuple(statement.getters), tuple(statement.errors), tuple(statement.checks)
            )
        )
    fallbacks = [root for root in roots if isinstance(root, Fallback)]
    return OperationPlan(
        tuple(roots),
        _only(document, operation, fallbacks) if fallbacks else None,
        tuple(operation.variable_definitions or ()),
    )


def _only(
    document: DocumentNode, operation: OperationDefinitionNode, fallbacks: list[Fallback]
) -> DocumentNode:
    """`document` with `operation` reduced to the fallback root fields (their own directives
    and fragments kept, so strawberry runs them exactly as asked)."""
    selections = tuple(detail.node for root in fallbacks for detail in root.details)
    reduced = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=selections),
    )
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    return DocumentNode(definitions=(reduced, *fragments))


class PlanCache:
    """Compiled plans, least recently used out first."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._plans: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def get_or_compile(self, key: Hashable, compile_plan: Callable[[], Any]) -> Any:
        """The plan under `key`, compiled on a miss; a shape the compiler does not cover is
        kept as the reason (a string), so it is not compiled again."""
        plan = self.get(key)
        if plan is None:
            try:
                plan = compile_plan()
            except Unsupported as error:
                plan = str(error)
            self.put(key, plan)
        return plan

    def put(self, key: Hashable, plan: Any) -> None:
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
