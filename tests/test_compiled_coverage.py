"""Every field reachable from a compiled root field is compiled: a query that asks for all of
them, a few levels deep, compiles with no fallback, for every role. A field added to a type
without its SQL in compiler/objects.py would quietly fall back to strawberry; this fails
instead. Compiling needs no database."""

import pytest
from graphql import GraphQLObjectType, get_named_type, parse
from graphql.execution.values import get_variable_values

from kilas.auth.caller import Role
from kilas.auth.rules import Roles, field_rule
from kilas.compiler.plan import Fallback, compile_operation
from kilas.compiler.roots import NODE_TABLES, ROOTS
from kilas.schema import build_schema
from kilas.schema.ids import to_global_id

SCHEMA = build_schema()
GRAPHQL = SCHEMA._schema
ARGUMENTS = {
    "complaint": '(trackingNumber: "JTG-1")',
    "opd": '(slug: "dinkes")',
    "region": '(code: "33.74")',
    "programme": '(code: "JALAN-CANTIK")',
    "headAccountability": '(from: "2026-11-01T00:00:00+07:00", to: "2026-12-01T00:00:00+07:00")',
}


def _all_fields(type_: GraphQLObjectType, depth: int) -> str:
    """Every field of `type_`, and of the objects under it down to `depth` levels."""
    parts = []
    for name, field in type_.fields.items():
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth == 0:
                continue
            parts.append(f"{name} {{ {_all_fields(named, depth - 1)} }}")
        else:
            parts.append(name)
    return " ".join(parts) or "__typename"


def _queries() -> list[tuple[str, str]]:
    query_type = GRAPHQL.query_type
    assert query_type is not None
    found = []
    for name in ROOTS:
        if name == "node":
            for type_name in NODE_TABLES:
                node_type = GRAPHQL.get_type(type_name)
                assert isinstance(node_type, GraphQLObjectType)
                selection = _all_fields(node_type, 3)
                global_id = to_global_id(type_name, 1)
                found.append(
                    (f"node:{type_name}", f'{{ node(id: "{global_id}") {{ ... on {type_name} '
                     f"{{ {selection} }} }} }}")
                )  # fmt: skip
            continue
        returned = get_named_type(query_type.fields[name].type)
        assert isinstance(returned, GraphQLObjectType)
        found.append(
            (name, f"{{ {name}{ARGUMENTS.get(name, '')} {{ {_all_fields(returned, 3)} }} }}")
        )
    return found


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
@pytest.mark.parametrize(("root", "query"), _queries(), ids=[root for root, _ in _queries()])
def test_every_field_under_a_compiled_root_is_compiled(root: str, query: str, role: Role) -> None:
    document = parse(query)
    variables = get_variable_values(GRAPHQL, (), {})
    assert not isinstance(variables, list)
    plan = compile_operation(GRAPHQL, SCHEMA, document, None, variables, role)
    fallbacks = [entry.reason for entry in plan.roots if isinstance(entry, Fallback)]
    rule = field_rule("Query", root.partition(":")[0])
    if isinstance(rule, Roles) and role not in rule.roles:
        # Left to strawberry, whose enforcement answers the refusal (compiler.objects.Ctx.admit).
        assert fallbacks == [f"Query.{root}: refused to {role.value}"]
        return
    assert fallbacks == []
    assert plan.compiled, root


def test_each_types_field_table_is_its_modules_own() -> None:
    """Not a copy: tests.differential_mutants patches the modules' tables, and a mutant that
    patched a copy nobody reads would survive without the differential test being at fault
    (compiler-tracking-number-open did, while `Complaint` was `{**COMPLAINT, …}`)."""
    from kilas.compiler import complaints, fields, reference

    assert fields.FIELDS["Complaint"] is complaints.COMPLAINT
    assert fields.FIELDS["ComplaintEvent"] is complaints.EVENT
    assert fields.FIELDS["Opd"] is reference.OPD
    assert fields.FIELDS["WorkItem"] is reference.WORK_ITEM
