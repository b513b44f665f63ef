"""The access table (auth.rules) against the schema and the app it guards, with no server: every
field of every object type and every route has a rule, every rule names something that exists,
a field without a rule stops the schema from building, and the one enforcement layer refuses
every role a `Roles` rule leaves out, on every such field, before its resolver runs."""

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from starlette.routing import BaseRoute

from kilas.app import create_app
from kilas.auth.caller import Caller, Role
from kilas.auth.rules import (
    FIELDS,
    ROUTES,
    ComplaintAction,
    MissingRule,
    Open,
    PersonalData,
    Roles,
    StaffNames,
    TrackingNumber,
    VisibleComplaints,
    field_rule,
)
from kilas.domain.errors import DomainError, ErrorCode
from kilas.resolvers.enforce import enforce
from kilas.schema import build_schema
from kilas.settings import Settings


def _graphql() -> GraphQLSchema:
    return build_schema()._schema


def _coordinates(schema: GraphQLSchema) -> set[str]:
    return {
        f"{type_name}.{field_name}"
        for type_name, graphql_type in schema.type_map.items()
        if isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__")
        for field_name in graphql_type.fields
    }


def test_every_field_and_mutation_of_the_schema_has_a_rule() -> None:
    coordinates = _coordinates(_graphql())
    missing = sorted(coordinates - FIELDS.keys())
    assert missing == [], f"fields without an access rule in auth/rules.py: {missing}"
    # Every mutation, query and subscription is in there (not just the object types).
    for root in ("Query", "Mutation", "Subscription"):
        assert any(c.startswith(f"{root}.") for c in coordinates)


def test_every_rule_names_a_field_the_schema_has() -> None:
    stale = sorted(FIELDS.keys() - _coordinates(_graphql()))
    assert stale == [], f"auth/rules.py names fields the schema lacks: {stale}"


def test_each_kind_of_rule_sits_where_its_enforcement_can_apply_it() -> None:
    for coordinate, rule in FIELDS.items():
        type_name = coordinate.split(".")[0]
        if isinstance(rule, ComplaintAction):
            assert type_name == "Mutation", coordinate
        if isinstance(rule, PersonalData | TrackingNumber):
            # Enforced over the parent's row (schema.complaints.Complaint.row).
            assert type_name == "Complaint", coordinate
        if isinstance(rule, StaffNames):
            assert type_name == "ComplaintEvent", coordinate
        assert isinstance(
            rule,
            Open
            | Roles
            | VisibleComplaints
            | PersonalData
            | TrackingNumber
            | StaffNames
            | ComplaintAction,
        ), coordinate


def test_a_field_without_a_rule_stops_the_schema_from_building() -> None:
    @strawberry.type
    class Query:
        @strawberry.field
        def unreviewed(self) -> int:
            return 1

    with pytest.raises(MissingRule, match=r"Query\.unreviewed has no access rule"):
        enforce(strawberry.Schema(query=Query))
    with pytest.raises(MissingRule):
        field_rule("Complaint", "secretNotes")


def _paths(routes: list[BaseRoute]) -> set[str]:
    return {str(route.path) for route in routes}  # type: ignore[attr-defined]


def test_every_route_of_the_app_has_a_rule_and_every_route_rule_a_route() -> None:
    # GraphiQL on, so that its route is there too.
    app = create_app(replace(Settings(), graphiql=True))
    paths = _paths(app.routes)
    assert paths <= ROUTES.keys(), f"routes without a rule: {sorted(paths - ROUTES.keys())}"
    assert ROUTES.keys() <= paths, f"rules for no route: {sorted(ROUTES.keys() - paths)}"


def _info(caller: Caller, field_name: str) -> Any:
    return SimpleNamespace(context=SimpleNamespace(caller=caller), field_name=field_name)


@pytest.mark.parametrize(
    "coordinate", sorted(c for c, rule in FIELDS.items() if isinstance(rule, Roles))
)
def test_the_layer_refuses_every_role_a_roles_rule_leaves_out(coordinate: str) -> None:
    type_name, field_name = coordinate.split(".")
    rule = FIELDS[coordinate]
    assert isinstance(rule, Roles)
    schema = build_schema()
    field = schema._schema.get_type(type_name).fields[field_name]  # type: ignore[union-attr]
    for role in Role:
        if role in rule.roles:
            continue
        info = _info(Caller(role=role, subject=f"test:{role.value}"), field_name)
        # The check comes first: the resolver underneath (which would fail on this bare info)
        # never runs.
        guarded = field.resolve
        assert guarded is not None
        if type_name == "Mutation":
            payload = guarded(None, info)
            (error,) = payload.errors
            assert error.code is ErrorCode.FORBIDDEN, (coordinate, role)
            assert field_name in error.message and role.value in error.message
        else:
            with pytest.raises(DomainError) as refused:
                guarded(None, info)
            assert refused.value.code is ErrorCode.FORBIDDEN, (coordinate, role)
            assert field_name in refused.value.message


def test_the_roles_rules_are_the_ones_the_readme_states() -> None:
    roles = {c: sorted(r.value for r in rule.roles) for c, rule in FIELDS.items()
             if isinstance(rule, Roles)}  # fmt: skip
    assert roles["Query.apiKeys"] == ["ADMIN"]
    assert roles["Query.accountability"] == roles["Query.personalDataAccess"] == ["SUPERVISOR"]
    assert roles.pop("Mutation.replayChannelDelivery") == ["ADMIN", "OPERATOR"]
    assert roles["Query.channelDeliveries"] == ["ADMIN", "OPERATOR", "SUPERVISOR"]
    webhooks = [c for c in roles if "ebhookEndpoint" in c]
    assert sorted(webhooks) == [
        "Mutation.createWebhookEndpoint",
        "Mutation.deleteWebhookEndpoint",
        "Mutation.disableWebhookEndpoint",
        "Mutation.enableWebhookEndpoint",
        "Query.webhookEndpoints",
    ]
    assert all(roles.pop(c) == ["ADMIN", "PARTNER"] for c in webhooks)
    assert all(v == ["ADMIN"] for c, v in roles.items() if c.startswith("Mutation."))
    intake = ROUTES["/channels/intake"]
    assert isinstance(intake, Roles) and intake.roles == {Role.PARTNER}
    export = ROUTES["/export/complaints.csv"]
    assert isinstance(export, Roles)
    assert export.roles == {Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}
