import strawberry

from kilas.domain.errors import DomainError
from kilas.schema.enums import ErrorCode


@strawberry.type(description="Why a mutation was refused. A refused mutation changes nothing.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(description="The input field at fault, if one is.")

    @classmethod
    def from_domain(cls, error: DomainError) -> "UserError":
        return cls(code=error.code, message=error.message, field=error.field)
