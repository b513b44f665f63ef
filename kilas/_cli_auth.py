"""`kilas apikey create|list|revoke` and `kilas token`: credentials for partners and staff."""

import argparse
import asyncio
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from kilas.auth import key_admin
from kilas.auth.caller import Role
from kilas.auth.tokens import issue
from kilas.db.api_keys import ApiKeyRow
from kilas.domain.errors import DomainError
from kilas.settings import Settings

KEY_ROLES = [r.value for r in Role if r in key_admin.KEY_ROLES]


class CommandError(Exception):
    """Refused input: said on stderr, exit status 2, nothing changed."""


def add_parsers(commands: Any, common: Any) -> None:
    apikey = commands.add_parser(
        "apikey",
        help="create, list or revoke API keys for partner apps",
        description="API keys are random, shown once at creation and stored only as a hash. "
        "Each has a role and optionally an OPD and/or a region it is limited to.",
    )
    actions = apikey.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it (once)")
    common(create)
    create.add_argument("--name", required=True, help="who holds it, e.g. 'SP4N-LAPOR! bridge'")
    create.add_argument("--role", required=True, choices=KEY_ROLES, help="what it may do")
    create.add_argument("--opd", help="an OPD slug: the OPD of an OPD_OFFICER, a partner's scope")
    create.add_argument("--region", help="a region code (e.g. 33.74): a partner's scope")
    create.add_argument("--expires-days", type=float, help="expire after this many days")
    listing = actions.add_parser("list", help="list the keys (never the keys themselves)")
    common(listing)
    revoke = actions.add_parser("revoke", help="revoke a key by its id or prefix")
    common(revoke)
    revoke.add_argument("key", help="the id (from `list`) or the 8-character prefix")

    token = commands.add_parser(
        "token",
        help="print a signed staff JWT (HS256, with KILAS_JWT_SECRET)",
        description="For development and for operations: sign a bearer token with the "
        "configured HS256 secret (in development, the published development secret). Staff "
        "applications normally get tokens from the province's identity provider.",
    )
    token.add_argument("--role", required=True, choices=KEY_ROLES)
    token.add_argument("--subject", required=True, help="who, e.g. an employee id or e-mail")
    token.add_argument("--opd", help="the OPD slug of an OPD_OFFICER")
    token.add_argument("--name", help="a display name")
    token.add_argument("--hours", type=float, default=8.0, help="valid for (default 8)")


def run(args: argparse.Namespace, settings: Settings, database: Any) -> int:
    try:
        if args.command == "token":
            print(_token(args, settings))
            return 0
        with database(settings) as url:
            asyncio.run(_apikey(args, url))
        return 0
    except CommandError as error:
        print(f"kilas: {error}", file=sys.stderr)
        return 2


def _token(args: argparse.Namespace, settings: Settings) -> str:
    secret = settings.effective_jwt_secret
    if secret is None:
        raise CommandError(
            "no HS256 secret to sign with: set KILAS_JWT_SECRET (with KILAS_JWT_PUBLIC_KEY, "
            "tokens come from the identity provider that holds the private key)"
        )
    if not 0 < args.hours <= 24 * 31:
        raise CommandError("--hours must be between 0 and 744 (31 days)")
    role = Role(args.role)
    if role is Role.OPD_OFFICER and not args.opd:
        raise CommandError("an OPD_OFFICER token needs --opd (the OPD's slug)")
    return issue(
        secret,
        subject=args.subject,
        role=role,
        opd_slug=args.opd,
        name=args.name,
        expires_at=datetime.now(UTC) + timedelta(hours=args.hours),
    )


async def _apikey(args: argparse.Namespace, url: str) -> None:
    from kilas.db import api_keys as api_keys_db
    from kilas.db.migrate import migrate
    from kilas.db.pool import connect

    conn = await connect(url)
    try:
        await migrate(conn)
        if args.action == "create":
            await _create(conn, args)
        elif args.action == "list":
            _print_keys(await api_keys_db.list_keys(conn))
        else:
            await _revoke(conn, args.key)
    finally:
        await conn.close()


async def _create(conn: Any, args: argparse.Namespace) -> None:
    from kilas.auth.key_admin import create_key

    now = datetime.now(UTC)
    expires_at = None
    if args.expires_days is not None:
        if args.expires_days <= 0:
            raise CommandError("--expires-days must be positive")
        expires_at = now + timedelta(days=args.expires_days)
    try:
        key, row = await create_key(
            conn,
            name=args.name,
            role=Role(args.role),
            opd_slug=args.opd,
            region_code=args.region,
            expires_at=expires_at,
            now=now,
        )
    except DomainError as error:
        raise CommandError(error.message) from None
    print(key)
    print(
        f"created key {row.id} ({row.prefix}) for {row.name!r}: {_describe(row)}. Keep "
        "it now: Kilas stores only its hash and cannot show it again.",
        file=sys.stderr,
    )


async def _revoke(conn: Any, key: str) -> None:
    from kilas.auth.key_admin import revoke_key

    try:
        row, was_active = await revoke_key(conn, key, datetime.now(UTC))
    except DomainError:
        raise CommandError(f"no API key has the id or prefix {key!r}") from None
    label = f"key {row.id} ({row.prefix})"
    if not was_active:
        print(f"{label} was already revoked at {row.revoked_at:%Y-%m-%d %H:%M}")
    else:
        print(f"revoked {label} {row.name!r}")


def _describe(row: ApiKeyRow) -> str:
    scope = [f"OPD {row.opd_slug}"] if row.opd_slug else []
    if row.region_code:
        scope.append(f"region {row.region_code}")
    return row.role + (f" ({', '.join(scope)})" if scope else "")


def _print_keys(rows: list[ApiKeyRow]) -> None:
    if not rows:
        print("no API keys yet: create one with `kilas apikey create`")
        return
    now = datetime.now(UTC)
    print(f"{'id':>4}  {'prefix':8}  {'status':8}  {'last used':16}  name, role and scope")
    for row in rows:
        if row.revoked_at is not None:
            status = "revoked"
        elif row.expires_at is not None and row.expires_at <= now:
            status = "expired"
        else:
            status = "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        print(f"{row.id:>4}  {row.prefix:8}  {status:8}  {used:16}  {row.name}: {_describe(row)}")
