from starlette.types import Scope


def caller_key(scope: Scope, caller: object = None) -> str:
    """Whom a limit counts: the caller's `key` (see auth.caller.Caller) when authentication has
    established one (`scope["kilas.caller"]`, or the one given), else the client's address."""
    if caller is None:
        caller = scope.get("kilas.caller")
    key = getattr(caller, "key", None)
    if isinstance(key, str) and key:
        return key
    client = scope.get("client")
    return f"public:{client[0] if client else 'unknown'}"
