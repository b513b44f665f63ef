"""The limit settings: read from the environment, on/off switches that follow KILAS_ENV, and a
clear refusal of a value that would make a limit meaningless."""

import pytest

from kilas.settings import Settings


def from_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env(env_file=None)


def test_the_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(
        monkeypatch,
        KILAS_MAX_QUERY_DEPTH="8",
        KILAS_MAX_ALIASES="5",
        KILAS_MAX_TOKENS="500",
        KILAS_MAX_BODY_BYTES="65536",
        KILAS_MAX_SUBSCRIPTIONS_PER_CONNECTION="4",
        KILAS_MAX_CONNECTIONS_PER_CALLER="3",
        KILAS_RATE_LIMIT="120",
        KILAS_RATE_LIMIT_BURST="10",
        KILAS_RATE_LIMIT_URL="redis://127.0.0.1:6379/0",
    )
    settings.check()
    assert (settings.max_query_depth, settings.max_aliases, settings.max_tokens) == (8, 5, 500)
    assert settings.max_body_bytes == 65536
    assert settings.max_subscriptions_per_connection == 4
    assert settings.max_connections_per_caller == 3
    assert (settings.rate_limit, settings.rate_limit_burst) == (120, 10)
    assert settings.rate_limit_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("env", "graphiql", "introspection", "expected"),
    [
        ("development", "", "", (True, True)),
        ("production", "", "", (False, False)),
        ("production", "true", "true", (True, True)),
        ("development", "false", "0", (False, False)),
    ],
)
def test_graphiql_and_introspection_follow_the_environment_unless_set(
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    graphiql: str,
    introspection: str,
    expected: tuple[bool, bool],
) -> None:
    settings = from_env(
        monkeypatch, KILAS_ENV=env, KILAS_GRAPHIQL=graphiql, KILAS_INTROSPECTION=introspection
    )
    assert (settings.graphiql_on, settings.introspection_on) == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_query_depth": 1}, "KILAS_MAX_QUERY_DEPTH must be at least 2"),
        ({"max_tokens": 10}, "KILAS_MAX_TOKENS must be at least 100"),
        ({"max_body_bytes": 100}, "KILAS_MAX_BODY_BYTES must be at least 1024"),
        ({"max_connections_per_caller": 0}, "KILAS_MAX_CONNECTIONS_PER_CALLER must be at least 1"),
        ({"rate_limit": -1}, "KILAS_RATE_LIMIT must be at least 0"),
        ({"rate_limit_burst": 0}, "KILAS_RATE_LIMIT_BURST must be at least 1"),
        ({"rate_limit_url": "http://user:hunter2@cache:6379"}, "got a 'http' URL"),
    ],
)
def test_a_meaningless_limit_is_refused_with_a_clear_message(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        Settings(**overrides).check()  # type: ignore[arg-type]
    assert "hunter2" not in str(refused.value)


def test_an_unreadable_switch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="KILAS_GRAPHIQL"):
        from_env(monkeypatch, KILAS_GRAPHIQL="perhaps")
