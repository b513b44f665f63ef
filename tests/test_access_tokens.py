"""Authentication over real HTTP: bearer JWTs (HS256 and RS256), API keys, and the refusals of
every wrong credential with 401 UNAUTHENTICATED, never a downgrade to the public role."""

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from kilas.auth import api_keys
from kilas.db import api_keys as api_keys_db
from kilas.settings import DEVELOPMENT_JWT_SECRET, Settings
from tests._api_helpers import complaint_in, dump
from tests._core_helpers import run
from tests.wire import RunningServer, gql, gql_data, http_client, start_server, token

WHO = "{ complaints(first: 1) { totalCount } }"
SUBMIT_SOMETHING = """
mutation { submitComplaint(input: {channel: WEB, text: "Lampu mati", regionCode: "33.74"}) {
  complaint { id } } }
"""
PAST = datetime.now(UTC) - timedelta(minutes=5)


async def post(url: str, authorization: str | None, query: str = WHO) -> tuple[int, Any, Any]:
    async with http_client(None) as client:
        headers = {"authorization": authorization} if authorization is not None else {}
        response = await client.post(url, json={"query": query}, headers=headers)
        return response.status_code, response.headers, response.json()


async def refused(url: str, authorization: str, reason: str) -> None:
    status, headers, body = await post(url, authorization)
    assert status == 401, (authorization, body)
    assert headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert reason in error["message"], error["message"]


async def test_wrong_credentials_are_refused_with_401_and_a_reason_and_change_nothing(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    before = await dump(pool)
    good = token("OPERATOR")
    header, payload, signature = good.split(".")
    unsigned = jwt.encode({"sub": "x", "role": "ADMIN", "exp": 4102444800}, key=None,
                          algorithm="none")  # fmt: skip
    cases = {
        f"Bearer {header}.{payload}.{signature[:-3]}AAA": "not valid",
        f"Bearer {token('OPERATOR', expires_at=PAST)}": "expired",
        "Basic dXNlcjpwYXNz": "Bearer <token>",
        "Bearer": "Bearer <token>",
        f"Bearer {unsigned}": "not valid",
        f"Bearer {jwt.encode({'sub': 'x', 'role': 'ROOT', 'exp': 4102444800}, DEVELOPMENT_JWT_SECRET)}": "not a Kilas role",  # noqa: E501
        f"Bearer {jwt.encode({'sub': 'x', 'role': 'ADMIN'}, DEVELOPMENT_JWT_SECRET)}": "exp",
        f"Bearer {token('OPD_OFFICER')}": "`opd` claim",
        f"Bearer {token('OPD_OFFICER', opd='no-such-opd')}": "does not exist",
        f"Bearer {jwt.encode({'sub': 'x', 'role': 'PUBLIC', 'exp': 4102444800}, DEVELOPMENT_JWT_SECRET)}": "PUBLIC",  # noqa: E501
        "Bearer kls_short": "malformed",
        "Bearer kls_00000000_" + "A" * 43: "not known",
    }
    for authorization, reason in cases.items():
        await refused(url, authorization, reason)
        # A mutation with a wrong credential is refused before it runs.
        status, _, body = await post(url, authorization, SUBMIT_SOMETHING)
        assert status == 401 and body["data"] is None, body
    assert await dump(pool) == before
    assert (await post(url, None))[0] == 200
    assert (await post(url, f"Bearer {good}"))[0] == 200


async def _key(pool: asyncpg.Pool, **fields: Any) -> tuple[str, int]:
    key, prefix = api_keys.new_key()
    values = {"name": "partner", "role": "PARTNER", "opd_id": None, "region_code": None,
              "expires_at": None, **fields}  # fmt: skip
    async with pool.acquire() as conn:
        row = await api_keys_db.insert_key(
            conn, prefix=prefix, key_hash=api_keys.key_hash(key), **values
        )
    return key, row.id


async def test_an_api_key_acts_in_its_role_and_scope_until_revoked_or_expired(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await complaint_in(url, "ASSIGNED")
    await complaint_in(url, "ASSIGNED", regionCode="33.74")
    key, key_id = await _key(pool, region_code="33.74")
    listing = "{ complaints { totalCount nodes { region { code } } } }"
    status, _, body = await post(url, f"Bearer {key}", listing)
    assert status == 200, body
    assert body["data"]["complaints"]["totalCount"] == 1
    assert body["data"]["complaints"]["nodes"] == [{"region": {"code": "33.74"}}]
    assert await pool.fetchval("SELECT last_used_at FROM api_keys WHERE id = $1", key_id)
    await pool.execute("UPDATE api_keys SET revoked_at = now() WHERE id = $1", key_id)
    server.app.state.kilas.authenticator._keys.clear()  # what KEY_CACHE_SECONDS would do
    await refused(url, f"Bearer {key}", "revoked")
    expired, _ = await _key(pool, expires_at=PAST)
    await refused(url, f"Bearer {expired}", "expired")
    # The key's hash is stored, never the key.
    stored = await pool.fetch("SELECT * FROM api_keys")
    assert all(key not in str(dict(row)) for row in stored)


def _hs256_by_hand(claims: dict[str, Any], secret: bytes) -> str:
    """PyJWT refuses to sign with a PEM key as an HMAC secret; an attacker would not."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = (
        part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        + "."
        + part(json.dumps(claims).encode())
    )
    return signing + "." + part(hmac.new(secret, signing.encode(), hashlib.sha256).digest())


@pytest.fixture
def rsa_keys(tmp_path: Path) -> tuple[Any, Path]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path / "kilas-jwt.pub"
    path.write_bytes(pem)
    return private, path


@pytest.fixture
async def rs256(database_url: str, rsa_keys: tuple[Any, Path]) -> AsyncIterator[RunningServer]:
    settings = Settings.from_env(env_file=None)
    public_pem = rsa_keys[1].read_text()
    assert settings.jwt_public_key is None
    async with start_server(
        database_url, jwt_public_key=public_pem, jwt_issuer="sso.jatengprov.go.id"
    ) as running:
        yield running


async def test_an_rs256_server_takes_tokens_of_its_key_and_refuses_hs256_ones(
    rs256: RunningServer, rsa_keys: tuple[Any, Path]
) -> None:
    private, path = rsa_keys
    claims = {"sub": "budi", "role": "OPERATOR", "exp": 4102444800,
              "iss": "sso.jatengprov.go.id"}  # fmt: skip
    url = rs256.http_url
    assert (await post(url, f"Bearer {jwt.encode(claims, private, algorithm='RS256')}"))[0] == 200
    # The public key used as an HS256 secret (the classic algorithm confusion) is refused.
    confused = _hs256_by_hand(claims, path.read_bytes())
    await refused(url, f"Bearer {confused}", "not valid")
    other_issuer = jwt.encode({**claims, "iss": "evil"}, private, algorithm="RS256")
    await refused(url, f"Bearer {other_issuer}", "issuer")
    await refused(url, f"Bearer {token('OPERATOR')}", "not valid")


def test_production_refuses_to_start_with_the_development_secret_or_a_short_one(
    tmp_path: Path,
) -> None:
    for secret, reason in ((DEVELOPMENT_JWT_SECRET, "development JWT secret"),
                           ("short", "at least 32")):  # fmt: skip
        result = run(tmp_path, "serve", KILAS_ENV="production", KILAS_JWT_SECRET=secret)
        assert result.returncode == 2, result
        assert reason in result.stderr
        assert secret not in result.stderr  # secrets never appear in errors
    production = Settings(env="production")
    assert production.effective_jwt_secret is None  # no development secret in production
    production.check()


async def test_kilas_apikey_creates_lists_and_revokes_keys_that_work_over_http(
    tmp_path: Path, database_url: str, server: RunningServer
) -> None:
    name = ["--name", "Portal Kota Semarang"]
    created = run(tmp_path, "apikey", "create", "--database-url", database_url, *name,
                  "--role", "PARTNER", "--region", "33.74")  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert api_keys.prefix_of(key) is not None
    assert "cannot show it again" in created.stderr
    assert (await post(server.http_url, f"Bearer {key}"))[0] == 200
    listed = run(tmp_path, "apikey", "list", "--database-url", database_url)
    assert "Portal Kota Semarang: PARTNER (region 33.74)" in listed.stdout
    assert key not in listed.stdout and "active" in listed.stdout
    revoked = run(tmp_path, "apikey", "revoke", key[4:12], "--database-url", database_url)
    assert revoked.returncode == 0 and "revoked key" in revoked.stdout, revoked.stderr
    server.app.state.kilas.authenticator._keys.clear()
    await refused(server.http_url, f"Bearer {key}", "revoked")
    for bad, reason in (
        (["--role", "OPD_OFFICER"], "needs its OPD"),
        (["--role", "PARTNER", "--opd", "nope"], "no OPD has the slug"),
        (["--role", "PARTNER", "--region", "99.99"], "no region has the code"),
        (["--role", "PUBLIC"], "invalid choice"),
    ):
        refusal = run(tmp_path, "apikey", "create", "--database-url", database_url,
                      "--name", "x", *bad)  # fmt: skip
        assert refusal.returncode == 2 and reason in refusal.stderr, (bad, refusal.stderr)
    assert "x" not in run(tmp_path, "apikey", "list", "--database-url", database_url).stdout.split()


def test_kilas_token_signs_a_token_the_development_server_accepts(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "--role", "OPD_OFFICER", "--opd", "dinkes", "--subject", "ani")
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), DEVELOPMENT_JWT_SECRET, algorithms=["HS256"])
    assert claims["role"] == "OPD_OFFICER" and claims["opd"] == "dinkes"
    assert claims["sub"] == "ani" and claims["exp"] > datetime.now(UTC).timestamp()


async def test_guessing_credentials_is_rate_limited_like_any_request(database_url: str) -> None:
    async with start_server(database_url, rate_limit=60, rate_limit_burst=3) as running:
        statuses = [
            (await post(running.http_url, f"Bearer kls_{n:08d}_" + "A" * 43))[0] for n in range(5)
        ]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


CREATE_KEY = """
mutation C($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    key apiKey { id prefix name role opdSlug regionCode revokedAt } errors { code message field }
  }
}
"""
REVOKE_KEY = """
mutation R($id: ID!) { revokeApiKey(apiKeyId: $id) { apiKey { revokedAt } errors { code } } }
"""


async def test_admins_manage_api_keys_over_graphql_and_no_one_else_can(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    admin = token("ADMIN")
    made = await gql_data(
        url,
        CREATE_KEY,
        {"input": {"name": "Bot balas X", "role": "PARTNER", "opdSlug": "dpubmck"}},
        token=admin,
    )
    payload = made["createApiKey"]
    assert payload["errors"] == []
    key, listed = payload["key"], payload["apiKey"]
    assert listed["prefix"] == key[4:12] and listed["opdSlug"] == "dpubmck"
    assert (await post(url, f"Bearer {key}"))[0] == 200
    keys = await gql_data(url, "{ apiKeys { prefix name } }", token=admin)
    assert keys["apiKeys"] == [{"prefix": listed["prefix"], "name": "Bot balas X"}]
    for role in ("OPERATOR", "SUPERVISOR", "PARTNER", None):
        caller = token(role) if role else None
        before = await dump(pool)
        refused_create = await gql_data(
            url, CREATE_KEY, {"input": {"name": "x", "role": "ADMIN"}}, token=caller
        )
        assert [e["code"] for e in refused_create["createApiKey"]["errors"]] == ["FORBIDDEN"]
        refused_revoke = await gql_data(url, REVOKE_KEY, {"id": listed["id"]}, token=caller)
        assert [e["code"] for e in refused_revoke["revokeApiKey"]["errors"]] == ["FORBIDDEN"]
        listing = await gql(url, "{ apiKeys { prefix } }", token=caller)
        assert listing["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await dump(pool) == before
    bad = await gql_data(url, CREATE_KEY, {"input": {"name": "x", "role": "PUBLIC"}}, token=admin)
    assert bad["createApiKey"]["errors"][0]["field"] == "role"
    revoked = await gql_data(url, REVOKE_KEY, {"id": listed["id"]}, token=admin)
    assert revoked["revokeApiKey"]["apiKey"]["revokedAt"] is not None
    server.app.state.kilas.authenticator._keys.clear()
    await refused(url, f"Bearer {key}", "revoked")


async def test_kilas_apikey_revokes_a_key_by_a_prefix_that_is_all_digits(
    tmp_path: Path, database_url: str, pool: asyncpg.Pool
) -> None:
    key = "kls_12345678_" + "A" * 43
    async with pool.acquire() as conn:
        await api_keys_db.insert_key(
            conn, prefix="12345678", key_hash=api_keys.key_hash(key), name="digits",
            role="PARTNER", opd_id=None, region_code=None, expires_at=None,
        )  # fmt: skip
    revoked = run(tmp_path, "apikey", "revoke", "12345678", "--database-url", database_url)
    assert revoked.returncode == 0 and "revoked key" in revoked.stdout, revoked.stderr
    assert await pool.fetchval("SELECT revoked_at FROM api_keys WHERE prefix = '12345678'")
