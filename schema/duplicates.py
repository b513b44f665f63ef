"""A likely duplicate of a complaint, with its score."""

import strawberry

from kilas.domain.errors import invalid
from kilas.resolvers.context import Info
from kilas.schema.complaints import Complaint, visible_complaint

MAX_CANDIDATES = 20


def check_first(first: int) -> None:
    if not 1 <= first <= MAX_CANDIDATES:
        raise invalid("first", f"first must be between 1 and {MAX_CANDIDATES}")


@strawberry.type(description="A complaint that is likely a duplicate of another, with its score.")
class DuplicateCandidate:
    complaint_db_id: strawberry.Private[int]
    score: float = strawberry.field(
        description="0 to 1: 0.7 x text similarity + 0.2 x nearness within the distance + 0.1 "
        "for the same category."
    )

    @strawberry.field(description="The candidate; null when the caller may not see it.")
    async def complaint(self, info: Info) -> Complaint | None:
        row = await info.context.loaders.complaint_by_id.load(self.complaint_db_id)
        return visible_complaint(info, row)
