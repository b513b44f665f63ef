"""Kilas as an Apollo Federation v2 subgraph: its entities and their keys, and how a gateway's
`_entities` representations become objects, by the rules of `node(id:)` (a complaint the
caller may not see is null, as it is there)."""

from typing import Any

from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from kilas.schema.ids import parse_global_id

# The keys other subgraphs reference Kilas's objects by: the global id, or a region's and a
# category's own code (what a budget or procurement system already holds).
BY_ID = [Key(fields=FieldSet("id"))]
BY_CODE = [Key(fields=FieldSet("code"))]
ENTITIES = ("Complaint", "Opd", "Region", "Category", "Programme", "WorkItem")
# Representations one `_entities` call resolves at most (a gateway batches one plan's).
MAX_REPRESENTATIONS = 500


async def by_id(info: Any, type_name: str, value: Any) -> Any:
    """The object a representation's global id names, if it is a `type_name` the caller may
    see; None otherwise (as `node(id:)` answers)."""
    from kilas.resolvers.queries import node_of

    if not isinstance(value, str):
        return None
    try:
        found_type, key = parse_global_id(value)
    except Exception:
        return None
    if found_type != type_name:
        return None
    return await node_of(info, type_name, key)


async def by_code(info: Any, type_name: str, value: Any) -> Any:
    from kilas.resolvers.queries import node_of

    if not isinstance(value, str):
        return None
    return await node_of(info, type_name, value)
