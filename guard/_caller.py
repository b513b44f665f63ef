from starlette.types import Scope

from kilas.auth.caller import caller_of


def caller_key(scope: Scope, caller: object = None) -> str:
    """Whom a limit counts (auth.caller.Caller.key): the caller given, else the one
    authentication established for the scope, else the public at the client's address."""
    key = getattr(caller, "key", None)
    if isinstance(key, str) and key:
        return key
    return caller_of(scope).key
