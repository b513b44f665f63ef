"""Marks the objects a mutation's payload returns, for the compiled read path to write them
(compiler/readback.py): when a request's context holds a `read_back` table, each marked field
records where its object is and which row it is, and strawberry resolves no more of it than the
compiler left in the document. With no table, it changes nothing."""

from typing import Any

from strawberry.extensions.field_extension import FieldExtension, SyncExtensionResolver
from strawberry.types import Info


class ReadBack(FieldExtension):
    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        value = next_(source, info, **kwargs)
        table = getattr(info.context, "read_back", None)
        if table is not None and value is not None:
            presented = getattr(value, "tracking_presented", None)
            if presented is None:
                presented = getattr(value, "complaint_presented", False)
            table[tuple(info.path.as_list())] = (value.db_id, bool(presented))
        return value
