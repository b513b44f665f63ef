"""Channel intake's protocol layer, example by example: each platform's handshake and signature,
right and wrong; every delivery in tests/channel_samples read into exactly the messages it holds
and the count of what it ignores; and bodies that are not what the platform documents refused
with a DeliveryError whose reason names the path. Pure: no database, no server."""

import base64
import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from kilas.channels import (
    Addressed,
    DeliveryError,
    InboundMessage,
    Kind,
    ParsedDelivery,
    Platform,
    SignatureError,
    parse_delivery,
)
from kilas.channels.signatures import (
    generic_signature,
    meta_handshake,
    verify_generic_signature,
    verify_meta_signature,
    verify_x_signature,
    x_crc_response,
)

SAMPLES = Path(__file__).parent / "channel_samples"
SECRET = b"kilas-app-secret"
BODY = (SAMPLES / "whatsapp_batch.json").read_bytes()
# 2025-03-01T01:45:00Z, the moment most samples were written at.
TS = 1740793500
NOW = datetime(2025, 3, 1, 1, 45, tzinfo=UTC)


def march_1(hour: int, minute: int, second: int = 0, microsecond: int = 0) -> datetime:
    """A moment of 2025-03-01 in UTC, the day every sample was written."""
    return datetime(2025, 3, 1, hour, minute, second, microsecond, tzinfo=UTC)


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_bytes())


def parsed(route: str, name: str) -> ParsedDelivery:
    delivery = parse_delivery(route, (SAMPLES / name).read_bytes())
    for message in delivery.messages:
        assert message.posted_at.utcoffset() == timedelta(0)
    return delivery


def refusal(route: str, document: Any) -> str:
    with pytest.raises(DeliveryError) as refused:
        parse_delivery(route, json.dumps(document).encode())
    return refused.value.reason


def hex_mac(key: bytes, message: bytes) -> str:
    return "sha256=" + hmac.new(key, message, hashlib.sha256).hexdigest()


def base64_mac(key: bytes, message: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def flipped(body: bytes) -> bytes:
    changed = bytearray(body)
    changed[len(changed) // 2] ^= 0x01
    return bytes(changed)


def message(
    platform: Platform,
    kind: Kind,
    message_id: str,
    addressed: tuple[Addressed, ...],
    author: tuple[str | None, str | None, str | None],
    text: str,
    posted_at: datetime,
    reply_to: tuple[tuple[str, str], ...],
    media: tuple[str, ...] = (),
    location: tuple[float, float] | None = None,
) -> InboundMessage:
    """An expected message; `author` is (id, handle, name), and raw is whatever the item was."""
    author_id, author_handle, author_name = author
    return InboundMessage(
        platform, kind, message_id, addressed, author_id, author_handle, author_name, text,
        media, location, posted_at, reply_to, raw=ANY,
    )  # fmt: skip


# --- Meta: X-Hub-Signature-256 and the GET handshake ---------------------------------------


def test_a_meta_signature_over_the_raw_body_holds() -> None:
    verify_meta_signature(SECRET, BODY, hex_mac(SECRET, BODY))
    verify_meta_signature(SECRET.decode(), BODY, hex_mac(SECRET, BODY))


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (flipped(BODY), hex_mac(SECRET, BODY)),
        (BODY, hex_mac(b"another-app-secret", BODY)),
        (BODY, hex_mac(SECRET, BODY + b"\n")),
    ],
    ids=["one-byte-of-the-body-flipped", "wrong-secret", "a-newline-added"],
)
def test_a_meta_signature_of_anything_else_is_refused(body: bytes, header: str) -> None:
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_meta_signature(SECRET, body, header)


@pytest.mark.parametrize("header", [None, ""])
def test_a_meta_delivery_without_a_signature_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError, match="missing X-Hub-Signature-256"):
        verify_meta_signature(SECRET, BODY, header)


GOOD_HEX = hex_mac(SECRET, BODY).removeprefix("sha256=")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("sha1=" + hashlib.sha1(BODY).hexdigest(), "is not sha256="),
        (GOOD_HEX, "is not sha256="),
        ("SHA256=" + GOOD_HEX, "is not sha256="),
        (" sha256=" + GOOD_HEX, "is not sha256="),
        ("sha256=" + GOOD_HEX[:-1], "is not 64 hex digits"),
        ("sha256=" + GOOD_HEX + "0", "is not 64 hex digits"),
        ("sha256=" + GOOD_HEX + "\n", "is not 64 hex digits"),
        ("sha256=" + "g" + GOOD_HEX[1:], "is not 64 hex digits"),
        ("sha256=" + base64_mac(SECRET, BODY).removeprefix("sha256="), "is not 64 hex digits"),
        ("sha256=" + "٣" + GOOD_HEX[1:], "is not sha256="),
        ("sha256=" + GOOD_HEX[:-1] + "\ud800", "is not sha256="),
    ],
    ids=[
        "sha1", "no-prefix", "upper-case-prefix", "leading-space", "63-digits", "65-digits",
        "trailing-newline", "non-hex", "base64", "arabic-indic-digit", "lone-surrogate",
    ],
)  # fmt: skip
def test_a_malformed_meta_signature_is_refused_with_a_reason(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_meta_signature(SECRET, BODY, header)


@pytest.mark.parametrize("secret", ["", b""])
def test_no_meta_app_secret_refuses_even_what_the_empty_key_signed(secret: str | bytes) -> None:
    with pytest.raises(SignatureError, match="no secret is configured"):
        verify_meta_signature(secret, BODY, hex_mac(b"", BODY))


HANDSHAKE = {
    "hub.mode": "subscribe",
    "hub.verify_token": "token-kilas",
    "hub.challenge": "1158201444",
}


def test_the_meta_handshake_answers_the_challenge() -> None:
    assert meta_handshake(HANDSHAKE, "token-kilas") == "1158201444"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"hub.mode": None}, "hub.mode is not subscribe"),
        ({"hub.mode": "unsubscribe"}, "hub.mode is not subscribe"),
        ({"hub.verify_token": None}, "missing hub.verify_token"),
        ({"hub.verify_token": ""}, "missing hub.verify_token"),
        ({"hub.verify_token": "token-kilat"}, "hub.verify_token does not match"),
        ({"hub.verify_token": "token-kilas "}, "hub.verify_token does not match"),
        ({"hub.verify_token": "tokén-kilas"}, "hub.verify_token does not match"),
        ({"hub.verify_token": "token-kilas\ud800"}, "hub.verify_token does not match"),
        ({"hub.challenge": None}, "missing hub.challenge"),
        ({"hub.challenge": ""}, "missing hub.challenge"),
        ({"hub.challenge": "<script>alert(1)</script>"}, "hub.challenge is not a token"),
        ({"hub.challenge": "1" * 257}, "hub.challenge is not a token"),
        ({"hub.challenge": "١١٥٨"}, "hub.challenge is not a token"),
    ],
)
def test_a_wrong_meta_handshake_is_refused(change: dict[str, str | None], reason: str) -> None:
    query = {k: v for k, v in {**HANDSHAKE, **change}.items() if v is not None}
    with pytest.raises(SignatureError, match=reason):
        meta_handshake(query, "token-kilas")


def test_no_verify_token_configured_refuses_the_meta_handshake() -> None:
    with pytest.raises(SignatureError, match="no secret is configured"):
        meta_handshake({**HANDSHAKE, "hub.verify_token": "anything"}, "")


# --- X: the CRC and x-twitter-webhooks-signature ----------------------------------------------


def test_the_x_crc_answer_is_the_base64_hmac_of_the_token() -> None:
    token = "nJuxWmdl3ZkOyTFJ2aBYgOgwVxU1xU1B8NWGS9t0OSE"
    digest = hmac.new(b"consumer-secret", token.encode(), hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    assert x_crc_response("consumer-secret", token) == {"response_token": expected}
    assert x_crc_response(b"consumer-secret", token) == {"response_token": expected}


def test_the_x_crc_answer_matches_a_published_hmac_sha256_vector() -> None:
    # RFC 4231, test case 2 (key "Jefe"); checked with `openssl dgst -sha256 -hmac Jefe -binary`.
    digest = bytes.fromhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    answer = x_crc_response("Jefe", "what do ya want for nothing?")
    assert answer == {"response_token": "sha256=" + base64.b64encode(digest).decode()}


@pytest.mark.parametrize(("secret", "token"), [("consumer-secret", None), ("consumer-secret", "")])
def test_an_x_crc_without_a_token_is_refused(secret: str, token: str | None) -> None:
    with pytest.raises(SignatureError, match="missing crc_token"):
        x_crc_response(secret, token)


@pytest.mark.parametrize("secret", ["", b""])
def test_no_x_consumer_secret_refuses_the_crc(secret: str | bytes) -> None:
    with pytest.raises(SignatureError, match="no secret is configured"):
        x_crc_response(secret, "a-token")


def test_an_x_signature_over_the_raw_body_holds() -> None:
    verify_x_signature(SECRET, BODY, base64_mac(SECRET, BODY))


@pytest.mark.parametrize(
    ("body", "header"),
    [(flipped(BODY), base64_mac(SECRET, BODY)), (BODY, base64_mac(b"another-secret", BODY))],
    ids=["one-byte-of-the-body-flipped", "wrong-secret"],
)
def test_an_x_signature_of_anything_else_is_refused(body: bytes, header: str) -> None:
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_x_signature(SECRET, body, header)


@pytest.mark.parametrize("header", [None, ""])
def test_an_x_delivery_without_a_signature_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError, match="missing x-twitter-webhooks-signature"):
        verify_x_signature(SECRET, BODY, header)


GOOD_BASE64 = base64_mac(SECRET, BODY).removeprefix("sha256=")
SHORT = base64.b64encode(hmac.new(SECRET, BODY, hashlib.sha256).digest()[:31]).decode()


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (GOOD_BASE64, "is not sha256="),
        ("sha512=" + GOOD_BASE64, "is not sha256="),
        ("sha256=" + GOOD_BASE64.rstrip("="), "is not base64"),
        ("sha256=" + GOOD_BASE64[:-2] + "!=", "is not base64"),
        ("sha256=" + GOOD_BASE64 + "\n", "is not base64"),
        ("sha256=" + SHORT, "is not a SHA-256 digest"),
        ("sha256=" + base64.b64encode(b"\x00" * 33).decode(), "is not a SHA-256 digest"),
        (hex_mac(SECRET, BODY), "is not a SHA-256 digest"),
        ("sha256=" + "é" + GOOD_BASE64[1:], "is not sha256="),
    ],
    ids=[
        "no-prefix", "sha512", "padding-dropped", "non-base64", "trailing-newline",
        "31-bytes", "33-bytes", "hex", "non-ascii",
    ],
)  # fmt: skip
def test_a_malformed_x_signature_is_refused_with_a_reason(header: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_x_signature(SECRET, BODY, header)


def test_no_x_consumer_secret_refuses_even_what_the_empty_key_signed() -> None:
    with pytest.raises(SignatureError, match="no secret is configured"):
        verify_x_signature("", BODY, base64_mac(b"", BODY))


# --- The generic intake: X-Kilas-Timestamp and X-Kilas-Signature ------------------------------

GENERIC_BODY = (SAMPLES / "generic_sms.json").read_bytes()


def generic_header(timestamp: str, body: bytes = GENERIC_BODY, key: bytes = SECRET) -> str:
    return hex_mac(key, timestamp.encode() + b"." + body)


def test_a_generic_signature_is_the_hex_hmac_of_the_timestamp_a_dot_and_the_body() -> None:
    assert generic_signature(SECRET, str(TS), GENERIC_BODY) == generic_header(str(TS))
    assert generic_signature(SECRET.decode(), str(TS), GENERIC_BODY) == generic_header(str(TS))


@pytest.mark.parametrize("age", [-300, -1, 0, 1, 299, 300])
def test_a_generic_signature_within_the_tolerance_holds(age: int) -> None:
    now = NOW + timedelta(seconds=age)
    verify_generic_signature(SECRET, GENERIC_BODY, str(TS), generic_header(str(TS)), now)


@pytest.mark.parametrize(
    ("body", "timestamp", "header"),
    [
        (flipped(GENERIC_BODY), str(TS), generic_header(str(TS))),
        (GENERIC_BODY, str(TS), generic_header(str(TS), key=b"another-secret")),
        (GENERIC_BODY, str(TS + 1), generic_header(str(TS))),
        (GENERIC_BODY, str(TS), hex_mac(SECRET, GENERIC_BODY)),
    ],
    ids=["one-byte-of-the-body-flipped", "wrong-secret", "another-timestamp", "body-alone"],
)
def test_a_generic_signature_of_anything_else_is_refused(
    body: bytes, timestamp: str, header: str
) -> None:
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_generic_signature(SECRET, body, timestamp, header, NOW)


@pytest.mark.parametrize(
    ("timestamp", "header", "reason"),
    [
        (None, generic_header(str(TS)), "missing X-Kilas-Timestamp"),
        ("", generic_header(str(TS)), "missing X-Kilas-Timestamp"),
        (str(TS), None, "missing X-Kilas-Signature"),
        (str(TS), "", "missing X-Kilas-Signature"),
        ("2025-03-01T01:45:00Z", generic_header(str(TS)), "is not unix seconds"),
        (f"{TS}.5", generic_header(f"{TS}.5"), "is not unix seconds"),
        (f"-{TS}", generic_header(f"-{TS}"), "is not unix seconds"),
        (f"{TS}000", generic_header(f"{TS}000"), "is not unix seconds"),
        ("١٧٤٠٧٩٣٥٠٠", generic_header(str(TS)), "is not unix seconds"),
        (str(TS), generic_header(str(TS))[:-1], "is not 64 hex digits"),
        (str(TS), generic_header(str(TS)).upper(), "is not sha256="),
        (str(TS), generic_header(str(TS))[:-1] + "\u00e9", "is not sha256="),
    ],
    ids=[
        "no-timestamp", "empty-timestamp", "no-signature", "empty-signature", "iso-timestamp",
        "fractional", "negative", "milliseconds", "arabic-indic-digits", "63-digits",
        "upper-case-prefix", "non-ascii",
    ],
)  # fmt: skip
def test_a_malformed_generic_signature_is_refused_with_a_reason(
    timestamp: str | None, header: str | None, reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_generic_signature(SECRET, GENERIC_BODY, timestamp, header, NOW)


@pytest.mark.parametrize(
    ("age", "reason"), [(301, "timestamp too old"), (-301, "timestamp in the future")]
)
def test_a_replayed_generic_delivery_is_refused_once_its_signature_holds(
    age: int, reason: str
) -> None:
    now = NOW + timedelta(seconds=age)
    with pytest.raises(SignatureError, match=reason):
        verify_generic_signature(SECRET, GENERIC_BODY, str(TS), generic_header(str(TS)), now)
    # Unsigned, the same stale timestamp tells a stranger only that the signature is wrong.
    forged = flipped(GENERIC_BODY)
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_generic_signature(SECRET, forged, str(TS), generic_header(str(TS)), now)


def test_the_generic_tolerance_can_be_narrowed() -> None:
    late = NOW + timedelta(seconds=31)
    with pytest.raises(SignatureError, match="timestamp too old"):
        verify_generic_signature(
            SECRET, GENERIC_BODY, str(TS), generic_header(str(TS)), late, timedelta(seconds=30)
        )


def test_no_generic_secret_refuses_even_what_the_empty_key_signed() -> None:
    with pytest.raises(SignatureError, match="no secret is configured"):
        verify_generic_signature(b"", GENERIC_BODY, str(TS), generic_header(str(TS), key=b""), NOW)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_generic_signature(
            SECRET, GENERIC_BODY, str(TS), generic_header(str(TS)), NOW.replace(tzinfo=None)
        )


# --- Every sample, read exactly --------------------------------------------------------------

DINAS_WA = ("106540352242922", "6281128001500")
TEST_WA = ("208765432109876", "15550783881")
SRI, BAMBANG, DWI, ROHMAT = "6281234567890", "6285711112222", "6289988776655", "6287700001111"


def whatsapp(
    message_id: str,
    number: tuple[str, str],
    sender: str,
    name: str | None,
    text: str,
    posted_at: datetime,
    media: tuple[str, ...] = (),
    location: tuple[float, float] | None = None,
) -> InboundMessage:
    account, digits = number
    return message(
        Platform.WHATSAPP, Kind.MESSAGE, message_id, (Addressed(account, digits),),
        (sender, sender, name), text, posted_at,
        (("account_id", account), ("recipient_id", sender), ("message_id", message_id)),
        media, location,
    )  # fmt: skip


def test_a_whatsapp_batch_keeps_every_message_of_every_entry_and_change() -> None:
    delivery = parsed("WHATSAPP", "whatsapp_batch.json")
    assert delivery.messages == (
        whatsapp(
            "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDMUE2RjI4MDVEQkE0QUZGAA==", DINAS_WA, SRI,
            "Sri Wahyuni", "Jalan di depan SDN 2 Kudus berlubang besar, sudah dua minggu.",
            march_1(1, 45),
        ),
        whatsapp(
            "wamid.HBgNNjI4NTcxMTExMjIyMhUCABIYFjNFQjA5QjBFNjg0RkQ2NkE1M0IyAA==", DINAS_WA,
            BAMBANG, "Bambang Sutejo", "Lampu PJU mati di Jl. Pemuda", march_1(2, 10, 30),
            media=("1479537139650973",),
        ),
        whatsapp(
            "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjA3RDY1QzE2RjA2NzI3NEVFAA==", DINAS_WA, SRI,
            "Sri Wahyuni", "Simpang Lima, Jl. Pemuda No. 1, Semarang", march_1(3, 0),
            location=(-6.9814, 110.4166),
        ),
        whatsapp(
            "wamid.AUDIO1", TEST_WA, DWI, "Dwi Lestari", "", march_1(1, 45),
            media=("918273645501",),
        ),
        whatsapp(
            "wamid.DOCUMENT1", TEST_WA, DWI, "Dwi Lestari", "Surat keterangan", march_1(1, 45, 10),
            media=("918273645502",),
        ),
        whatsapp(
            "wamid.STICKER1", TEST_WA, DWI, "Dwi Lestari", "", march_1(1, 45, 20),
            media=("918273645503",),
        ),
        whatsapp(
            "wamid.VIDEO1", TEST_WA, DWI, "Dwi Lestari", "", march_1(1, 45, 50),
            media=("918273645504",),
        ),
    )  # fmt: skip
    # Two statuses, a reaction, an unsupported message and a template's status update.
    assert delivery.ignored == 5
    assert delivery.messages[1].raw["image"]["mime_type"] == "image/jpeg"


def test_whatsapp_button_and_list_choices_are_kept_by_their_titles() -> None:
    delivery = parsed("WHATSAPP", "whatsapp_interactive.json")
    assert delivery.messages == (
        whatsapp("wamid.BUTTON1", DINAS_WA, SRI, "Sri Wahyuni", "Belum selesai", march_1(1, 45)),
        whatsapp(
            "wamid.INTERACTIVE1", DINAS_WA, SRI, "Sri Wahyuni", "Jalan rusak", march_1(1, 46, 40)
        ),
    )
    assert delivery.ignored == 0


def test_a_whatsapp_flow_answer_and_a_system_notice_are_ignored_beside_what_is_kept() -> None:
    delivery = parsed("WHATSAPP", "whatsapp_interactive_kinds.json")
    assert delivery.messages == (
        whatsapp("wamid.BUTTONREPLY1", DINAS_WA, ROHMAT, None, "Sudah diperbaiki", march_1(2, 0)),
        whatsapp(
            "wamid.PIN1", DINAS_WA, ROHMAT, None, "", march_1(2, 3), location=(-7.0051, 110.4381)
        ),
    )
    assert delivery.ignored == 2


def test_whatsapp_statuses_of_the_opds_own_messages_are_only_counted() -> None:
    assert parsed("WHATSAPP", "whatsapp_statuses.json") == ParsedDelivery((), 3)


IG_ACCOUNT = "17841405822304914"
IG_DM = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI1OTgyNjQ0NjI0MDQ3NTIzNg=="  # noqa: E501
IG_STORY = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0OlNUT1JZ"


def test_instagram_dms_keep_their_pictures_and_story_mentions_and_drop_the_rest() -> None:
    delivery = parsed("INSTAGRAM", "instagram_messaging.json")
    assert delivery.messages == (
        message(
            Platform.INSTAGRAM, Kind.DIRECT_MESSAGE, IG_DM, (Addressed(IG_ACCOUNT, None),),
            ("6357846424278153", None, None), "Min, sampah di Kali Banger belum diangkut seminggu",
            march_1(1, 45),
            (
                ("account_id", IG_ACCOUNT), ("recipient_id", "6357846424278153"),
                ("message_id", IG_DM),
            ),
            media=("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1234&signature=abc",),
        ),
        message(
            Platform.INSTAGRAM, Kind.DIRECT_MESSAGE, IG_STORY, (Addressed(IG_ACCOUNT, None),),
            ("7711223344556677", None, None), "", march_1(1, 48, 20),
            (
                ("account_id", IG_ACCOUNT), ("recipient_id", "7711223344556677"),
                ("message_id", IG_STORY),
            ),
            media=("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=5678&signature=def",),
        ),
    )  # fmt: skip
    # The account's own answer echoed back, a read receipt and a reaction.
    assert delivery.ignored == 3


def test_instagram_comments_and_mentions_are_kept_and_the_accounts_own_answer_is_not() -> None:
    delivery = parsed("INSTAGRAM", "instagram_changes.json")
    account = (Addressed(IG_ACCOUNT, None),)
    assert delivery.messages == (
        message(
            Platform.INSTAGRAM, Kind.COMMENT, "17865799348089039", account,
            ("232323232", "warga_semarang", None),
            "Pak, drainase di Tlogosari mampet lagi @dinaspu_jateng", march_1(2, 10, 30),
            (
                ("account_id", IG_ACCOUNT), ("comment_id", "17865799348089039"),
                ("media_id", "17887498072083520"),
            ),
        ),
        message(
            Platform.INSTAGRAM, Kind.MENTION, "17894227972186120", account, (None, None, None),
            "", march_1(2, 10, 30),
            (
                ("account_id", IG_ACCOUNT), ("media_id", "17918195224117851"),
                ("comment_id", "17894227972186120"),
            ),
        ),
        message(
            Platform.INSTAGRAM, Kind.MENTION, "17918195224117999", account, (None, None, None),
            "", march_1(2, 10, 30),
            (("account_id", IG_ACCOUNT), ("media_id", "17918195224117999")),
        ),
    )  # fmt: skip
    # The account's own reply under its post, and story insights.
    assert delivery.ignored == 2


def test_a_dm_in_a_change_of_field_messages_as_the_app_dashboard_sends_it_is_kept() -> None:
    delivery = parsed("INSTAGRAM", "instagram_dashboard_test.json")
    assert delivery.messages == (
        message(
            Platform.INSTAGRAM, Kind.DIRECT_MESSAGE, "random_mid",
            (Addressed("23245", None), Addressed("0", None)), ("12334", None, None),
            "random_text", march_1(1, 45),
            (("account_id", "23245"), ("recipient_id", "12334"), ("message_id", "random_mid")),
        ),
    )  # fmt: skip
    assert delivery.ignored == 0


PAGE = "104512345678901"


def test_facebook_feed_comments_posts_and_mentions_are_kept_and_the_pages_own_are_not() -> None:
    delivery = parsed("FACEBOOK", "facebook_feed.json")
    page = (Addressed(PAGE, None),)
    post = "104512345678901_987654321"
    assert delivery.messages == (
        message(
            Platform.FACEBOOK, Kind.COMMENT, "987654321_1122334455", page,
            ("3412345678901234", None, "Agus Prasetyo"),
            "Banjir lagi di Kaligawe, mohon pompa dinyalakan", march_1(1, 45),
            (("account_id", PAGE), ("comment_id", "987654321_1122334455"), ("post_id", post)),
        ),
        message(
            Platform.FACEBOOK, Kind.COMMENT, "104512345678901_555666777", page,
            ("5512345678901234", None, "Rina Marlina"),
            "Jembatan Kali Serang retak, foto terlampir.", march_1(2, 10, 30),
            (("account_id", PAGE), ("post_id", "104512345678901_555666777")),
            media=(
                "https://scontent.xx.fbcdn.net/v/jembatan1.jpg",
                "https://scontent.xx.fbcdn.net/v/jembatan2.jpg",
            ),
        ),
        # Without the permission to read profiles, Meta leaves the author out.
        message(
            Platform.FACEBOOK, Kind.COMMENT, "987654321_1122334477", page, (None, None, None),
            "Di RT 05 juga", march_1(2, 16, 40),
            (("account_id", PAGE), ("comment_id", "987654321_1122334477"), ("post_id", post)),
        ),
        # No created_time: the entry's time.
        message(
            Platform.FACEBOOK, Kind.MENTION, "222333444_555666777", page,
            ("222333444", None, "Forum Warga Pati"), "", march_1(3, 0),
            (("account_id", PAGE), ("post_id", "222333444_555666777")),
        ),
        message(
            Platform.FACEBOOK, Kind.MENTION, "555666777_888999000", page,
            ("999888777", None, "Yuli Astuti"),
            "@Dinas PU Jawa Tengah jalan Pati-Juwana rusak parah", march_1(2, 43, 20),
            (
                ("account_id", PAGE), ("comment_id", "555666777_888999000"),
                ("post_id", "222333444_555666777"),
            ),
        ),
    )  # fmt: skip
    # The page's own answer, an edit and a reaction.
    assert delivery.ignored == 3


MESSENGER_MID = (
    "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"
)


def test_a_messenger_dm_is_kept_and_the_echo_delivery_and_postback_are_not() -> None:
    delivery = parsed("FACEBOOK", "facebook_messenger.json")
    assert delivery.messages == (
        message(
            Platform.FACEBOOK, Kind.DIRECT_MESSAGE, MESSENGER_MID, (Addressed(PAGE, None),),
            ("7012345678901234", None, None), "Selamat pagi, saya mau lapor pungli di Samsat.",
            march_1(1, 45, 0, 120_000),
            (
                ("account_id", PAGE), ("recipient_id", "7012345678901234"),
                ("message_id", MESSENGER_MID),
            ),
            media=("https://scontent.xx.fbcdn.net/v/t1.15752-9/pungli.jpg",),
        ),
    )  # fmt: skip
    assert delivery.ignored == 3


def test_a_chat_plugin_visitor_without_an_id_is_known_by_the_user_ref() -> None:
    document = sample("facebook_messenger.json")
    document["entry"][0]["messaging"][0]["sender"] = {"user_ref": "visitor-8812"}
    (dm,) = parse_delivery("FACEBOOK", json.dumps(document).encode()).messages
    assert dm.author_id == "visitor-8812"
    assert dm.reply_to[1] == ("recipient_id", "visitor-8812")


X_ACCOUNT = "1287654321098765432"
DPU = Addressed(X_ACCOUNT, "dpu_jateng")


def test_x_tweets_to_the_account_are_kept_and_its_own_and_retweets_are_not() -> None:
    delivery = parsed("X", "x_tweets.json")
    assert delivery.messages == (
        message(
            Platform.X, Kind.MENTION, "1895678901234567890",
            (DPU, Addressed("69183155", "ganjarpranowo")),
            ("1122334455", "hendra_rembang", "Hendra Wijaya"),
            # The whole text, from extended_tweet, not the 140 characters X cut.
            "@dpu_jateng @ganjarpranowo Jalan Pantura Rembang-Lasem berlubang di km 12, sudah "
            "tiga motor jatuh minggu ini. Mohon segera diperbaiki sebelum ada korban jiwa. Foto "
            "dari pagi ini. https://t.co/xyz789",
            march_1(1, 45),
            (
                ("account_id", X_ACCOUNT), ("recipient_id", "1122334455"),
                ("tweet_id", "1895678901234567890"),
            ),
            media=(
                "https://pbs.twimg.com/media/GjPantura1.jpg",
                "https://pbs.twimg.com/media/GjPantura2.jpg",
            ),
            # GeoJSON's [longitude, latitude], turned round.
            location=(-6.7046, 111.3416),
        ),
        message(
            Platform.X, Kind.MENTION, "1895678901234611111", (DPU,),
            ("6677889900", "sari_smg", "Sari"), "Lampu lalu lintas Bangkong mati dari subuh",
            # 03:00 at +0700.
            datetime(2025, 2, 28, 20, 0, tzinfo=UTC),
            (
                ("account_id", X_ACCOUNT), ("recipient_id", "6677889900"),
                ("tweet_id", "1895678901234611111"),
            ),
        ),
    )  # fmt: skip
    # The account's own answer, a retweet of its post, and a favourite.
    assert delivery.ignored == 3


def test_an_x_dm_to_the_account_is_kept_and_its_own_answer_is_not() -> None:
    delivery = parsed("X", "x_direct_messages.json")
    assert delivery.messages == (
        message(
            Platform.X, Kind.DIRECT_MESSAGE, "1895679999999999001", (DPU,),
            ("1122334455", "hendra_rembang", "Hendra Wijaya"),
            "Selamat pagi, ini foto lubangnya https://t.co/dm1", march_1(1, 45, 0, 123_000),
            (
                ("account_id", X_ACCOUNT), ("recipient_id", "1122334455"),
                ("message_id", "1895679999999999001"),
            ),
            media=(
                "https://ton.twitter.com/1.1/ton/data/dm/1895679999999999001/1895679999999999555/"
                "lubang.jpg",
            ),
        ),
    )  # fmt: skip
    assert delivery.ignored == 1


def test_every_other_x_event_is_only_counted() -> None:
    # Two typing indicators, a follow, a deletion and a revocation.
    assert parsed("X", "x_other_events.json") == ParsedDelivery((), 5)


SMS = message(
    Platform.SMS, Kind.MESSAGE, "sms-gw1-20250301-000871", (Addressed("1708", None),),
    ("+6281234567890", None, None),
    "LAPOR jalan desa Karanganyar Demak rusak berat, truk pasir lewat tiap hari",
    march_1(1, 45),
    (
        ("account_id", "1708"), ("message_id", "sms-gw1-20250301-000871"),
        ("recipient_id", "+6281234567890"),
    ),
)  # fmt: skip


@pytest.mark.parametrize("route", ["SMS", "GENERIC"])
def test_a_generic_message_is_read_on_its_own_route_and_the_shared_one(route: str) -> None:
    assert parsed(route, "generic_sms.json") == ParsedDelivery((SMS,), 0)


def test_a_generic_batch_keeps_each_message_with_its_own_source() -> None:
    delivery = parsed("GENERIC", "generic_batch.json")
    assert delivery.messages == (
        message(
            Platform.HOTLINE, Kind.MESSAGE, "call-2025-03-01-0042", (Addressed("112", None),),
            ("+6282133334444", None, "Pak Slamet"),
            "Penelepon melaporkan pohon tumbang menutup jalan Ungaran-Bandungan.", march_1(1, 45),
            (
                ("account_id", "112"), ("message_id", "call-2025-03-01-0042"),
                ("recipient_id", "+6282133334444"),
            ),
            location=(-7.1503, 110.4051),
        ),
        message(
            Platform.NATIONAL, Kind.MESSAGE, "LAPOR-6547812", (),
            (None, "lapor:user:99812", "Anonim"),
            "Bantuan sosial tidak sampai ke warga RT 03 RW 02 Kelurahan Bugangan.",
            march_1(1, 10, 30, 250_000), (("message_id", "LAPOR-6547812"),),
            media=("https://www.lapor.go.id/files/6547812/1.jpg",),
        ),
    )  # fmt: skip
    assert delivery.ignored == 0


@pytest.mark.parametrize(
    ("route", "name", "reason"),
    [
        ("HOTLINE", "generic_sms.json", "body.source 'SMS' is not one of HOTLINE"),
        ("NATIONAL", "generic_sms.json", "body.source 'SMS' is not one of NATIONAL"),
        (
            "HOTLINE",
            "generic_batch.json",
            "body.messages[1].source 'NATIONAL' is not one of HOTLINE",
        ),
        ("SMS", "generic_batch.json", "body.messages[0].source 'HOTLINE' is not one of SMS"),
    ],
)
def test_a_generic_source_the_route_does_not_allow_refuses_the_delivery(
    route: str, name: str, reason: str
) -> None:
    assert refusal(route, sample(name)) == reason


def test_a_platform_is_no_generic_source() -> None:
    document = {**sample("generic_sms.json"), "source": "WHATSAPP"}
    reason = "body.source 'WHATSAPP' is not one of HOTLINE, NATIONAL, SMS"
    assert refusal("GENERIC", document) == reason


@pytest.mark.parametrize("route", ["TELEGRAM", "whatsapp", "", "WEB"])
def test_an_unknown_route_is_refused(route: str) -> None:
    with pytest.raises(DeliveryError, match="unknown platform"):
        parse_delivery(route, b"{}")


# --- Bodies that are not what the platform documents -----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"", b"{", b"\xff\xfe\x00{", b"<xml/>", b'{"a": 1}{"b": 2}', b"{'object': 'page'}",
        b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"1" * 5000,
        b'{"text": "\xc3\x28"}',
    ],
    ids=[
        "empty", "truncated", "bad-utf16", "xml", "two-documents", "single-quotes", "nan",
        "infinity", "minus-infinity", "huge-integer", "bad-utf8",
    ],
)  # fmt: skip
@pytest.mark.parametrize("route", ["WHATSAPP", "INSTAGRAM", "FACEBOOK", "X", "GENERIC"])
def test_a_body_that_is_not_json_is_refused(route: str, body: bytes) -> None:
    with pytest.raises(DeliveryError, match="the body is not JSON"):
        parse_delivery(route, body)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"object": "page", "entry": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
    ],
    ids=["arrays", "objects"],
)
def test_a_body_nested_too_deeply_is_refused(body: bytes) -> None:
    with pytest.raises(DeliveryError, match="the body nests too deeply"):
        parse_delivery("FACEBOOK", body)


def test_a_body_nested_as_deep_as_json_allows_is_read_without_recursion() -> None:
    body = b'{"source": "SMS", "deep": ' + b"[" * 500 + b'"\\u0000"' + b"]" * 500 + b"}"
    with pytest.raises(DeliveryError, match=r"body\.deep(\[0\]){500} is not text"):
        parse_delivery("SMS", body)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"source": "SMS", "text": "jalan\\u0000rusak"}', "body.text is not text"),
        (b'{"source": "SMS", "text": "jalan \\ud800"}', "body.text is not text"),
        (b'{"messages": [{"from": {"na\\udfffme": "x"}}]}', "a key in body.messages[0].from"),
    ],
    ids=["nul", "lone-surrogate", "lone-surrogate-in-a-key"],
)
def test_a_string_that_is_not_text_is_refused_with_its_path(body: bytes, reason: str) -> None:
    with pytest.raises(DeliveryError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        parse_delivery("GENERIC", body)


def test_a_joined_surrogate_pair_is_text() -> None:
    document = {**sample("generic_sms.json"), "text": "Jalan rusak 🚧"}
    body = json.dumps(document, ensure_ascii=True).encode()
    assert b"\\ud83d\\udea7" in body
    (sms,) = parse_delivery("SMS", body).messages
    assert sms.text == "Jalan rusak 🚧"


@pytest.mark.parametrize("route", ["WHATSAPP", "INSTAGRAM", "FACEBOOK", "X", "GENERIC"])
@pytest.mark.parametrize("document", [[], "page", 1, None, True])
def test_a_body_that_is_not_an_object_is_refused(route: str, document: Any) -> None:
    assert refusal(route, document) == "body is not an object"


def test_a_long_value_is_quoted_short_in_the_reason() -> None:
    reason = refusal("FACEBOOK", {"object": "p" * 10_000, "entry": []})
    assert reason.startswith("body.object is 'pppp")
    assert reason.endswith("..., not 'page'")
    assert len(reason) < 100


DELETE = object()
WA = ("entry", 0, "changes", 0, "value")
WA_PIN = (*WA, "messages", 2, "location")
IG = ("entry", 0, "changes", 0, "value")
IG_DM_EVENT = ("entry", 0, "messaging", 0)
FB = ("entry", 0, "changes")
TWEET = ("tweet_create_events", 0)
DM_EVENT = ("direct_message_events", 0, "message_create")


@pytest.mark.parametrize(
    ("name", "route", "path", "value", "reason"),
    [
        ("whatsapp_batch.json", "WHATSAPP", ("object",), "page",
         "body.object is 'page', not 'whatsapp_business_account'"),
        ("whatsapp_batch.json", "WHATSAPP", ("object",), DELETE, "body.object is missing"),
        ("whatsapp_batch.json", "WHATSAPP", ("entry",), DELETE, "body.entry is missing"),
        ("whatsapp_batch.json", "WHATSAPP", ("entry",), {}, "body.entry is not an array"),
        ("whatsapp_batch.json", "WHATSAPP", ("entry", 1), "x", "body.entry[1] is not an object"),
        ("whatsapp_batch.json", "WHATSAPP", ("entry", 0, "changes", 1, "field"), 7,
         "body.entry[0].changes[1].field is not a string"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA, "metadata"), DELETE,
         "body.entry[0].changes[0].value.metadata is missing"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA, "contacts", 0, "profile", "name"), 7,
         "body.entry[0].changes[0].value.contacts[0].profile.name is not a string"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA, "messages", 0, "timestamp"), "yesterday",
         "body.entry[0].changes[0].value.messages[0].timestamp is not a timestamp"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA, "messages", 0, "timestamp"), -1,
         "body.entry[0].changes[0].value.messages[0].timestamp is out of range"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA, "messages", 0, "from"), "",
         "body.entry[0].changes[0].value.messages[0].from is empty"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA, "messages", 1, "image", "id"), DELETE,
         "body.entry[0].changes[0].value.messages[1].image.id is missing"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA_PIN, "latitude"), 91,
         "body.entry[0].changes[0].value.messages[2].location.latitude is out of range"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA_PIN, "longitude"), "110.4",
         "body.entry[0].changes[0].value.messages[2].location.longitude is not a number"),
        ("whatsapp_batch.json", "WHATSAPP", (*WA_PIN, "latitude"), DELETE,
         "body.entry[0].changes[0].value.messages[2].location.latitude is missing"),
        ("whatsapp_interactive.json", "WHATSAPP",
         (*WA, "messages", 1, "interactive", "list_reply", "title"), ["Jalan rusak"],
         "body.entry[0].changes[0].value.messages[1].interactive.list_reply.title is not a string"),
        ("whatsapp_interactive.json", "WHATSAPP", (*WA, "messages", 1, "interactive", "type"),
         DELETE, "body.entry[0].changes[0].value.messages[1].interactive.type is missing"),
        ("whatsapp_interactive.json", "WHATSAPP",
         (*WA, "messages", 1, "interactive", "list_reply"), DELETE,
         "body.entry[0].changes[0].value.messages[1].interactive.list_reply is missing"),
        ("instagram_changes.json", "INSTAGRAM", ("entry", 0, "time"), DELETE,
         "body.entry[0].time is missing"),
        ("instagram_changes.json", "INSTAGRAM", (*IG, "media", "id"), {},
         "body.entry[0].changes[0].value.media.id is not an id"),
        ("instagram_changes.json", "INSTAGRAM", (*IG, "from"), DELETE,
         "body.entry[0].changes[0].value.from is missing"),
        ("instagram_messaging.json", "INSTAGRAM", (*IG_DM_EVENT, "sender"), "6357846424278153",
         "body.entry[0].messaging[0].sender is not an object"),
        ("instagram_messaging.json", "INSTAGRAM", (*IG_DM_EVENT, "sender", "id"), DELETE,
         "body.entry[0].messaging[0].sender.id is missing"),
        ("instagram_messaging.json", "INSTAGRAM", (*IG_DM_EVENT, "timestamp"), 1.5e300,
         "body.entry[0].messaging[0].timestamp is out of range"),
        ("facebook_feed.json", "FACEBOOK", (*FB, 0, "value", "created_time"), True,
         "body.entry[0].changes[0].value.created_time is not a timestamp"),
        ("facebook_feed.json", "FACEBOOK", (*FB, 1, "value", "photos"), ["https://a", 1],
         "body.entry[0].changes[1].value.photos is not an array of strings"),
        ("facebook_feed.json", "FACEBOOK", (*FB, 0, "value", "comment_id"), DELETE,
         "body.entry[0].changes[0].value.comment_id is missing"),
        ("facebook_messenger.json", "FACEBOOK",
         ("entry", 0, "messaging", 0, "message", "attachments", 0, "payload", "url"), 5,
         "body.entry[0].messaging[0].message.attachments[0].payload.url is not a string"),
        ("x_tweets.json", "X", ("for_user_id",), DELETE, "body.for_user_id is missing"),
        ("x_tweets.json", "X", (*TWEET, "created_at"), "2025-03-01T01:45:00Z",
         "body.tweet_create_events[0].created_at is not a time like "
         "'Wed Oct 10 20:19:24 +0000 2018'"),
        ("x_tweets.json", "X", (*TWEET, "created_at"), "Sat Feb 30 01:45:00 +0000 2025",
         "body.tweet_create_events[0].created_at is not a real time"),
        ("x_tweets.json", "X", (*TWEET, "coordinates", "coordinates"), [111.3416],
         "body.tweet_create_events[0].coordinates.coordinates is not [longitude, latitude]"),
        ("x_tweets.json", "X", (*TWEET, "coordinates", "coordinates", 1), -91,
         "body.tweet_create_events[0].coordinates.coordinates[1] is out of range"),
        ("x_tweets.json", "X", (*TWEET, "extended_tweet", "entities", "user_mentions", 0), 3,
         "body.tweet_create_events[0].extended_tweet.entities.user_mentions[0] is not an object"),
        ("x_direct_messages.json", "X", ("users",), [], "body.users is not an object"),
        ("x_direct_messages.json", "X", (*DM_EVENT, "target", "recipient_id"), "",
         "body.direct_message_events[0].message_create.target.recipient_id is empty"),
        ("x_direct_messages.json", "X", ("users", "1122334455", "screen_name"), 1,
         "body.users.1122334455.screen_name is not a string"),
        ("generic_sms.json", "SMS", ("postedAt",), "2025-03-01T08:45:00",
         "body.postedAt has no UTC offset"),
        ("generic_sms.json", "SMS", ("postedAt",), "kemarin",
         "body.postedAt is not an ISO 8601 time"),
        ("generic_sms.json", "SMS", ("text",), DELETE, "body.text is missing"),
        ("generic_sms.json", "SMS", ("id",), -3, "body.id is not an id"),
        ("generic_batch.json", "GENERIC", ("messages",), None, "body.messages is not an array"),
        ("generic_batch.json", "GENERIC", ("messages", 0, "location", "lat"), True,
         "body.messages[0].location.lat is not a number"),
        ("generic_batch.json", "GENERIC", ("messages", 1, "mediaUrls"), "https://x",
         "body.messages[1].mediaUrls is not an array of strings"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_refused_with_its_path(
    name: str, route: str, path: tuple[str | int, ...], value: Any, reason: str
) -> None:
    document = sample(name)
    *parents, last = path
    parent = document
    for key in parents:
        parent = parent[key]
    if value is DELETE:
        del parent[last]
    else:
        parent[last] = copy.deepcopy(value)
    assert refusal(route, document) == reason
