"""A repeated submission (same channel and externalRef) over real HTTP, for every role: it writes
nothing and reveals no more than the caller may read. Only the credential that submitted the
complaint (the same API key, or the same staff subject) gets its tracking number back; a public
caller can never prove it was the submitter, since anyone can quote a public post's id."""

from typing import Any

import asyncpg
import pytest

from kilas.auth import api_keys
from kilas.db import api_keys as api_keys_db
from tests.ops import complaint_input
from tests.wire import RunningServer, gql, token

SUBMIT = """
mutation Submit($input: SubmitComplaintInput!) {
  submitComplaint(input: $input) {
    created
    complaint { id status trackingNumber reporter { name contact handle } externalRef }
    event { type }
    errors { code message field }
  }
}
"""
FIELDS = ("trackingNumber", "reporter", "externalRef")
REPORTER = {"name": "Siti Aminah", "contact": "+62812000111", "handle": "@siti"}

# What each role may read of a RECEIVED complaint it did not submit (no OPD holds it yet):
# staff who see everything read its tracking number, operators its personal data too.
READS: dict[str, frozenset[str]] = {
    "PUBLIC": frozenset(),
    "PARTNER": frozenset(),
    "OPD_OFFICER": frozenset(),
    "OPERATOR": frozenset(FIELDS),
    "SUPERVISOR": frozenset({"trackingNumber"}),
    "ADMIN": frozenset({"trackingNumber"}),
}
# Who sees a confidential complaint it did not submit.
SEES_CONFIDENTIAL = frozenset({"OPERATOR", "SUPERVISOR", "ADMIN"})
# Personal data the submitter itself may read back (its role's right, not the submission's).
PERSONAL = {"OPERATOR": frozenset({"reporter", "externalRef"})}


async def _key(pool: asyncpg.Pool, name: str) -> str:
    key, prefix = api_keys.new_key()
    async with pool.acquire() as conn:
        await api_keys_db.insert_key(
            conn, prefix=prefix, key_hash=api_keys.key_hash(key), name=name, role="PARTNER",
            opd_id=None, region_code=None, expires_at=None,
        )  # fmt: skip
    return key


async def _credentials(pool: asyncpg.Pool, role: str) -> tuple[str | None, str | None]:
    """Two different credentials of `role` (partners as API keys, staff as tokens)."""
    if role == "PUBLIC":
        return None, None
    if role == "PARTNER":
        return await _key(pool, "bot-1"), await _key(pool, "bot-2")
    opd = "dpubmck" if role == "OPD_OFFICER" else None
    first, other = (
        token(role, opd=opd, subject=f"{role.lower()}-{n}") for n in (1, 2)
    )  # fmt: skip
    return first, other


async def _stored(pool: asyncpg.Pool) -> list[Any]:
    rows = await pool.fetch(
        "SELECT to_jsonb(c) AS row FROM complaints c UNION ALL "
        "SELECT to_jsonb(e) FROM complaint_events e"
    )
    return [r["row"] for r in rows]


async def _submit(url: str, credential: str | None, ref: str, **flags: Any) -> dict[str, Any]:
    variables = {"input": complaint_input(externalRef=ref, reporter=REPORTER, **flags)}
    body = await gql(url, SUBMIT, variables, token=credential)
    payload = body["data"]["submitComplaint"]
    assert payload["errors"] == [], payload
    refused = {tuple(e["path"]) for e in body.get("errors", [])}
    assert {e["extensions"]["code"] for e in body.get("errors", [])} <= {"FORBIDDEN"}, body
    complaint = payload["complaint"]
    read = None
    if complaint is not None:
        read = {f for f in FIELDS if ("submitComplaint", "complaint", f) not in refused}
        assert all(complaint[f] is None for f in FIELDS if f not in read), body
        if "trackingNumber" in read:
            assert complaint["trackingNumber"].startswith("JTG-")
    return {"created": payload["created"], "event": payload["event"], "read": read,
            "complaint": complaint}  # fmt: skip


async def _repeat(
    url: str, pool: asyncpg.Pool, credential: str | None, ref: str, **flags: Any
) -> dict[str, Any]:
    """A repeat: answered `created: false`, no event, nothing written."""
    before = await _stored(pool)
    # A different text changes nothing either: the stored complaint stands.
    result = await _submit(url, credential, ref, text="Teks lain, kiriman ulang.", **flags)
    assert result["created"] is False and result["event"] is None
    assert await _stored(pool) == before
    return result


@pytest.mark.parametrize("confidential", [False, True], ids=["plain", "confidential"])
@pytest.mark.parametrize("role", list(READS))
async def test_a_repeated_submission_reveals_the_tracking_number_only_to_the_credential_that_submitted(  # noqa: E501
    server: RunningServer, pool: asyncpg.Pool, role: str, confidential: bool
) -> None:
    url = server.http_url
    mine, other = await _credentials(pool, role)
    ref = f"tweet-{role}-{confidential}"
    flags = {"confidential": True} if confidential else {}
    submitter_reads = {"trackingNumber"} | PERSONAL.get(role, frozenset())

    first = await _submit(url, mine, ref, **flags)
    assert first["created"] is True and first["event"] == {"type": "SUBMITTED"}
    assert first["read"] == submitter_reads
    complaint_id = first["complaint"]["id"]

    # The same credential again: the submitter, as at first. The public cannot prove it.
    again = await _repeat(url, pool, mine, ref, **flags)
    if role == "PUBLIC":
        assert again == await _repeat(url, pool, None, ref, **flags)
        expected_again = None if confidential else frozenset()
        assert again["read"] == expected_again, again
    else:
        assert again["complaint"]["id"] == complaint_id
        assert again["read"] == submitter_reads, again

    # Another credential of the same role, and the public: what their role may read, no more.
    for name, credential, reads in (
        (role, other, READS[role]),
        ("PUBLIC", None, READS["PUBLIC"]),
    ):
        result = await _repeat(url, pool, credential, ref, **flags)
        if confidential and name not in SEES_CONFIDENTIAL:
            assert result["complaint"] is None, (name, result)
        else:
            assert result["complaint"]["id"] == complaint_id
            assert result["read"] == reads, (name, result)


async def test_the_public_cannot_learn_a_bots_tracking_number_by_resubmitting_a_public_post(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    bot = await _key(pool, "reply-bot")
    first = await _submit(url, bot, "1865234987001")
    number = first["complaint"]["trackingNumber"]
    again = await _submit(url, None, "1865234987001")
    assert again["created"] is False and again["read"] == set()
    # The number proves the reporter: with it the public could have closed the complaint.
    assert number not in str(again)
    actor = await pool.fetchval("SELECT actor FROM complaint_events WHERE type = 'SUBMITTED'")
    assert actor.startswith("key:")
