from enum import StrEnum


class ErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    STALE_VERSION = "STALE_VERSION"
    INVALID_INPUT = "INVALID_INPUT"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"


class DomainError(Exception):
    """An expected failure: the command changes nothing and the caller gets `code`."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def extensions(self) -> dict[str, str]:
        # graphql-core copies an exception's `extensions` onto the error it reports.
        extensions = {"code": str(self.code)}
        if self.field is not None:
            extensions["field"] = self.field
        return extensions


def not_found(kind: str, key: object, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND, f"{kind} {key} does not exist", field)


def forbidden(message: str, field: str | None = None) -> DomainError:
    return DomainError(ErrorCode.FORBIDDEN, message, field)


def invalid(field: str, message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, field)
