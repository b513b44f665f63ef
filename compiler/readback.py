"""Mutations read their payloads' objects back through the compiled path: strawberry runs the
mutation with each payload object's selection cut down to `__typename`, the payload field
records which row it returned (schema/readback.py), and one statement per object writes the
object's JSON as a query would, with the same rules (visibility was judged by the mutation;
the tracking number goes to whoever presented it, personal data is logged).

Only an operation of one mutation is read back (a second mutation in the same operation would
change what the first one's payload must show), and only the mutations below, whose object is
still there to read: a removed social account is answered by strawberry, from memory."""

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import VariableValues
from strawberry import Schema

from kilas.auth.caller import Role
from kilas.compiler.fields import FIELDS
from kilas.compiler.objects import Ctx, Row, Sel
from kilas.compiler.plan import RootPlan, fragments_of
from kilas.compiler.sql import Statement, Unsupported

READ_BACK_MUTATIONS = frozenset(
    {
        "submitComplaint", "assignComplaint", "reassignComplaint", "recordFollowUp",
        "resolveComplaint", "confirmResolution", "reopenComplaint", "closeComplaint",
        "rejectComplaint", "linkComplaintToWorkItem", "createOpd", "updateOpd",
        "addOpdSocialAccount", "setOpdSocialAccountVerified", "createProgramme",
        "updateProgramme", "createWorkItem", "updateWorkItemProgress", "addSlaPolicyVersion",
        "appointOpdHead",
    }
)  # fmt: skip
TABLES = {
    "Complaint": "complaints",
    "ComplaintEvent": "complaint_events",
    "Opd": "opds",
    "OpdHead": "opd_heads",
    "SocialAccount": "opd_social_accounts",
    "Programme": "programmes",
    "WorkItem": "work_items",
    "SlaPolicy": "sla_policies",
}


@dataclass(frozen=True)
class ReadBackPlan:
    # The operation strawberry runs: the payload objects' selections cut to `__typename`.
    document: DocumentNode
    # (mutation key, payload key) → whether the caller presented the tracking number → plan.
    objects: dict[tuple[str, str], dict[bool, RootPlan]]


def compile_read_back(
    schema: GraphQLSchema,
    strawberry: Schema,
    document: DocumentNode,
    operation_name: str | None,
    variables: VariableValues,
    role: Role,
) -> ReadBackPlan:
    operation = get_operation_ast(document, operation_name)
    mutation_type = schema.mutation_type
    if operation is None or mutation_type is None:
        raise Unsupported("no mutation operation")
    fragments = fragments_of(document)
    grouped = collect_fields(
        schema, fragments, variables, mutation_type, operation
    ).grouped_field_set
    root_nodes = operation.selection_set.selections
    if len(grouped) != 1 or len(root_nodes) != 1:
        raise Unsupported("not one mutation")
    [(key, details)] = grouped.items()
    root = details[0].node
    name = root.name.value
    definition = mutation_type.fields.get(name)
    if name not in READ_BACK_MUTATIONS or definition is None or root is not root_nodes[0]:
        raise Unsupported(f"Mutation.{name} is not read back")
    payload = get_named_type(definition.type)
    if not isinstance(payload, GraphQLObjectType) or root.selection_set is None:
        raise Unsupported("no payload")
    ctx = Ctx(schema, strawberry, fragments, variables, operation, Statement(role), FIELDS)
    direct = set(map(id, root.selection_set.selections))
    objects: dict[tuple[str, str], dict[bool, RootPlan]] = {}
    cut: set[int] = set()
    for sub in ctx.subfields(payload.name, Sel(key, details, definition, "Mutation")):
        type_name = get_named_type(sub.definition.type).name
        table = TABLES.get(type_name)
        if table is None or len(sub.details) != 1 or id(sub.node) not in direct:
            continue
        try:
            objects[(key, sub.key)] = {
                presented: _statement(ctx, role, type_name, table, sub, presented)
                for presented in (False, True)
            }
        except Unsupported:
            continue
        cut.add(id(sub.node))
    if not objects:
        raise Unsupported("no payload object to read back")
    return ReadBackPlan(_cut(document, operation, root, cut), objects)


def _statement(
    ctx: Ctx, role: Role, type_name: str, table: str, sel: Sel, presented: bool
) -> RootPlan:
    statement = Statement(role)
    ctx.st = statement
    row_id = statement.param(lambda b: b.memo["row"], "bigint")
    built = ctx.object(type_name, Row("t", presented), sel)
    sql = f"SELECT (SELECT {built} FROM {table} t WHERE t.id = {row_id})::text"
    return RootPlan(sel.key, sql, tuple(statement.getters), tuple(statement.errors))


def _cut(
    document: DocumentNode, operation: OperationDefinitionNode, root: FieldNode, cut: set[int]
) -> DocumentNode:
    typename = SelectionSetNode(selections=(FieldNode(name=NameNode(value="__typename")),))
    assert root.selection_set is not None
    selections = tuple(
        FieldNode(
            alias=node.alias,
            name=node.name,
            arguments=node.arguments,
            directives=node.directives,
            selection_set=typename,
            loc=node.loc,
        )
        if id(node) in cut and isinstance(node, FieldNode)
        else node
        for node in root.selection_set.selections
    )
    new_root = FieldNode(
        alias=root.alias,
        name=root.name,
        arguments=root.arguments,
        directives=root.directives,
        selection_set=SelectionSetNode(selections=selections),
        loc=root.loc,
    )
    reduced = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=(new_root,)),
        loc=operation.loc,
    )
    rest = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    return DocumentNode(definitions=(reduced, *rest))


def splice(data: dict[str, Any], path: tuple[Hashable, ...], value: Any) -> None:
    """Put `value` at `path` (mutation key, payload key) of `data`."""
    payload = data.get(str(path[0]))
    if isinstance(payload, dict):
        payload[str(path[1])] = value
