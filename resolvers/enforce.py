"""The one layer that enforces auth.rules on strawberry's execution. At schema build time every
field of every object type is looked up in the table (a field it does not name stops the build:
nothing is open by default) and the fields whose rule is a check get it wrapped around their
resolver, before the resolver runs:

- `Roles`: FORBIDDEN for another role; a mutation answers it in its payload's `errors`, as its
  other refusals, and a query or subscription field as a GraphQL error at the field's path;
- `PersonalData`: FORBIDDEN unless the caller may read it; an allowed read is written to the
  access log before the value is returned; a complaint with none answers null to anyone;
- `TrackingNumber`: FORBIDDEN unless presented or the caller may see it;
- `StaffNames`: the actor as the caller may see it.

`Open` fields run as declared. The HTTP routes beside GraphQL get their `Roles` the same way
(`guarded_routes`). `VisibleComplaints` is enforced where complaints are read (SQL
visibility, `schema.complaints.visible_complaint`) and `ComplaintAction` by the mutation
pipeline against the locked row; both read the same table."""

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo, get_named_type
from graphql.execution.execute import default_field_resolver
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry import Schema
from strawberry.types.base import StrawberryObjectDefinition

from kilas.auth.caller import caller_of
from kilas.auth.rules import (
    MissingRule,
    PersonalData,
    Roles,
    Rule,
    StaffNames,
    TrackingNumber,
    field_rule,
    route_rule,
)
from kilas.domain.errors import forbidden
from kilas.resolvers.permissions import log_personal_data_read
from kilas.schema.errors import UserError

Resolver = Callable[..., Any]


def enforce(schema: Schema) -> None:
    """Look up every field's rule (MissingRule if one has none) and wrap the checks around the
    resolvers of `schema`, in place."""
    for type_name, graphql_type in schema._schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        for field_name, field in graphql_type.fields.items():
            rule = field_rule(type_name, field_name)
            _guard(schema, type_name, field_name, field, rule)


def _guard(schema: Schema, type_name: str, name: str, field: GraphQLField, rule: Rule) -> None:
    resolve: Resolver = field.resolve or default_field_resolver
    if isinstance(rule, Roles):
        if type_name == "Mutation":
            field.resolve = _roles_in_payload(rule, name, _payload_class(schema, field), resolve)
        else:
            field.resolve = _roles(rule, name, resolve)
            if field.subscribe is not None:
                field.subscribe = _roles(rule, name, field.subscribe)
    elif isinstance(rule, PersonalData):
        field.resolve = _personal_data(rule, resolve)
    elif isinstance(rule, TrackingNumber):
        field.resolve = _tracking_number(rule, name, resolve)
    elif isinstance(rule, StaffNames):
        field.resolve = _staff_names(rule, resolve)


def _roles(rule: Roles, name: str, resolve: Resolver) -> Resolver:
    def guarded(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        refusal = rule.refusal(info.context.caller, name)
        if refusal is not None:
            raise forbidden(refusal)
        return resolve(root, info, **arguments)

    return guarded


def _roles_in_payload(rule: Roles, name: str, payload: type, resolve: Resolver) -> Resolver:
    def guarded(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        refusal = rule.refusal(info.context.caller, name)
        if refusal is not None:
            return payload(errors=[UserError.from_domain(forbidden(refusal))])
        return resolve(root, info, **arguments)

    return guarded


def _payload_class(schema: Schema, field: GraphQLField) -> type:
    """The strawberry class of a mutation's payload (every payload has `errors`)."""
    name = get_named_type(field.type).name
    definition = schema.get_type_by_name(name)
    if not isinstance(definition, StrawberryObjectDefinition) or all(
        f.python_name != "errors" for f in definition.fields
    ):
        raise TypeError(f"{name} is not a mutation payload with errors")
    return definition.origin


def _personal_data(rule: PersonalData, resolve: Resolver) -> Resolver:
    async def guarded(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        # The field's parent is a complaint (schema.complaints.Complaint: its row at `.row`).
        row = root.row
        if rule.present(row):
            refusal = rule.refusal(info.context.caller, row)
            if refusal is not None:
                raise forbidden(refusal, rule.name)
            await log_personal_data_read(info.context, row, rule.name)
        value = resolve(root, info, **arguments)
        return await value if inspect.isawaitable(value) else value

    return guarded


def _tracking_number(rule: TrackingNumber, name: str, resolve: Resolver) -> Resolver:
    def guarded(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        refusal = rule.refusal(info.context.caller, root.row, presented=root.tracking_presented)
        if refusal is not None:
            raise forbidden(refusal, name)
        return resolve(root, info, **arguments)

    return guarded


def _staff_names(rule: StaffNames, resolve: Resolver) -> Resolver:
    def guarded(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        return rule.shown(info.context.caller, resolve(root, info, **arguments))

    return guarded


def guarded_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    """The app's routes with auth.rules.ROUTES applied: a route the table does not name stops
    the app from being built; a route for some roles answers 403 to any other."""
    guarded: list[BaseRoute] = []
    for route in routes:
        path = getattr(route, "path", None)
        if path is None:
            raise MissingRule(f"route {route!r} has no path to look its rule up by")
        rule = route_rule(path)
        if isinstance(rule, Roles):
            if not isinstance(route, Route):
                raise TypeError(f"{path}: only an HTTP route can be held to roles")
            route = Route(
                path,
                _route_roles(rule, path, route.endpoint),
                methods=route.methods,
                name=route.name,
            )
        guarded.append(route)
    return guarded


def _route_roles(rule: Roles, path: str, endpoint: Any) -> Any:
    async def guarded(request: Request) -> Response:
        caller = caller_of(request.scope)
        if caller.role not in rule.roles:
            allowed = ", ".join(sorted(role.value for role in rule.roles))
            return PlainTextResponse(
                f"{path} is for {allowed} callers (send Authorization: Bearer …); the caller "
                f"is {caller.role.value}\n",
                status_code=403,
            )
        response: Response = await endpoint(request)
        return response

    return guarded
