"""Hypothesis over channel intake's protocol layer: whatever the body, on whatever route,
parse_delivery answers a ParsedDelivery or a DeliveryError and never another exception; a real
delivery with a key dropped or a value of another type put in its place is refused with a path,
or still yields messages Kilas can keep (an id, an aware time, coordinates on Earth, text); and
a signature holds for its secret and body and for nothing one byte away. Pure, and bounded:
each property runs 200 derandomized examples."""

import base64
import copy
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilas.channels import DeliveryError, ParsedDelivery, Platform, SignatureError, parse_delivery
from kilas.channels.signatures import (
    generic_signature,
    verify_generic_signature,
    verify_meta_signature,
    verify_x_signature,
)

BOUNDED = settings(max_examples=200, derandomize=True, deadline=None)
NOW = datetime(2025, 3, 1, 1, 45, tzinfo=UTC)
ROUTES = ("WHATSAPP", "INSTAGRAM", "FACEBOOK", "X", "SMS", "HOTLINE", "NATIONAL", "GENERIC")
GENERIC_SOURCES = {Platform.SMS, Platform.HOTLINE, Platform.NATIONAL}
REPLY_KEYS = {"account_id", "recipient_id", "message_id", "comment_id", "post_id", "media_id"}
SAMPLES = {
    path.name: json.loads(path.read_bytes())
    for path in sorted((Path(__file__).parent / "channel_samples").glob("*.json"))
}
ROUTE_OF = {"whatsapp": "WHATSAPP", "instagram": "INSTAGRAM", "facebook": "FACEBOOK", "x": "X"}


def route_of(name: str) -> str:
    return ROUTE_OF.get(name.split("_")[0], "GENERIC")


def vocabulary(value: Any, keys: set[str], strings: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            vocabulary(item, keys, strings)
    elif isinstance(value, list):
        for item in value:
            vocabulary(item, keys, strings)
    elif isinstance(value, str) and len(value) < 40:
        strings.add(value)


KEYS: set[str] = set()
STRINGS: set[str] = set()
for document in SAMPLES.values():
    vocabulary(document, KEYS, STRINGS)

# The samples' own keys and short strings, so that a random value often takes a parser's path.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=0, max_value=10**17),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(sorted(STRINGS)),
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(sorted(KEYS)) | st.text(max_size=6), inner, max_size=5)
    ),
    max_leaves=25,
)


def outcome(route: str, body: bytes) -> ParsedDelivery | None:
    """The delivery, or None when it is refused; any other exception fails the test."""
    try:
        return parse_delivery(route, body)
    except DeliveryError as refusal:
        assert refusal.reason
        return None


@BOUNDED
@given(ANY_JSON)
def test_any_json_value_is_read_or_refused_on_every_route(value: Any) -> None:
    body = json.dumps(value).encode()
    for route in ROUTES:
        outcome(route, body)


@BOUNDED
@given(st.sampled_from(ROUTES), st.dictionaries(st.sampled_from(sorted(KEYS)), ANY_JSON))
def test_any_object_of_the_platforms_keys_is_read_or_refused(route: str, value: Any) -> None:
    outcome(route, json.dumps(value).encode())


@BOUNDED
@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_refused_on_every_route(body: bytes) -> None:
    for route in ROUTES:
        outcome(route, body)


@BOUNDED
@given(st.text(max_size=12))
def test_a_route_that_names_no_platform_is_refused(route: str) -> None:
    if route in ROUTES:
        return
    with pytest.raises(DeliveryError, match="unknown platform"):
        parse_delivery(route, b"{}")


# --- Real deliveries, mutated ----------------------------------------------------------------

KeyPath = tuple[str | int, ...]


def paths(value: Any, trail: KeyPath = ()) -> list[KeyPath]:
    """Every path below `value` (not the document itself)."""
    found: list[KeyPath] = []
    keys: list[Any] = (
        list(value) if isinstance(value, dict) else list(range(len(value)))
        if isinstance(value, list) else []
    )  # fmt: skip
    for key in keys:
        found.append((*trail, key))
        found.extend(paths(value[key], (*trail, key)))
    return found


def json_type(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    return "number" if isinstance(value, int | float) else type(value).__name__


# One of each JSON type, and the numbers and strings that sit on a parser's edges.
ODD: list[Any] = [
    None, True, False, 0, -1, 1.5, 1e308, 10**17, 2**64, "", " ", "0", "1740793500",
    "Sat Mar 01 01:45:00 +0000 2025", "2025-03-01T08:45:00+07:00", "add", "comment",
    "message_create", "interactive", [], [None], [{}], {}, {"id": "1"}, {"id": ""},
]  # fmt: skip
REPLACEMENTS = st.sampled_from(ODD) | ANY_JSON


def another_type(value: Any) -> st.SearchStrategy[Any]:
    """A replacement for `value` of another JSON type."""
    old = json_type(value)
    return REPLACEMENTS.filter(lambda new: json_type(new) != old)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A sample with one to three of: a key or an item dropped, a value of another type."""
    name = draw(st.sampled_from(sorted(SAMPLES)))
    document = copy.deepcopy(SAMPLES[name])
    for _ in range(draw(st.integers(1, 3))):
        every = paths(document)
        if not every:
            break
        *parents, last = draw(st.sampled_from(every))
        parent = document
        for key in parents:
            parent = parent[key]
        if draw(st.booleans()):
            del parent[last]
        else:
            # A copy: ODD's lists and objects are shared, and a later mutation may edit inside.
            parent[last] = copy.deepcopy(draw(another_type(parent[last])))
    return route_of(name), json.dumps(document).encode()


def assert_keepable(route: str, delivery: ParsedDelivery) -> None:
    assert delivery.ignored >= 0
    for message in delivery.messages:
        if route == "GENERIC":
            assert message.platform in GENERIC_SOURCES
        else:
            assert message.platform == route
        assert isinstance(message.message_id, str)
        assert message.message_id
        assert message.posted_at.tzinfo is not None
        assert message.posted_at.utcoffset() == timedelta(0)
        if message.location is not None:
            lat, lon = message.location
            assert math.isfinite(lat) and -90 <= lat <= 90
            assert math.isfinite(lon) and -180 <= lon <= 180
        assert isinstance(message.text, str)
        assert all(isinstance(url, str) and url for url in message.media)
        for key, value in message.reply_to:
            assert key in REPLY_KEYS | {"tweet_id"}
            assert isinstance(value, str)
            assert value
        for account in message.addressed:
            assert account.account_id or account.handle


@BOUNDED
@given(mutated())
def test_a_mutated_sample_is_refused_with_a_path_or_yields_keepable_messages(
    mutation: tuple[str, bytes],
) -> None:
    route, body = mutation
    try:
        delivery = parse_delivery(route, body)
    except DeliveryError as refusal:
        assert refusal.reason.startswith(("body", "a key in body")), refusal.reason
        assert len(refusal.reason) < 400
        return
    assert_keepable(route, delivery)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_unmutated_yields_keepable_messages(name: str) -> None:
    route = route_of(name)
    assert_keepable(route, parse_delivery(route, json.dumps(SAMPLES[name]).encode()))


# --- Signatures ------------------------------------------------------------------------------

SECRETS = st.binary(min_size=1, max_size=64) | st.text(
    alphabet=st.characters(codec="utf-8"), min_size=1, max_size=32
)
BODIES = st.binary(min_size=1, max_size=512)


def key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def one_byte_changed(body: bytes, data: st.DataObject) -> bytes:
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    delta = data.draw(st.integers(1, 255), label="delta")
    changed = bytearray(body)
    changed[index] = (changed[index] + delta) % 256
    return bytes(changed)


@BOUNDED
@given(SECRETS, BODIES, st.data())
def test_a_meta_signature_holds_for_its_body_and_fails_one_byte_away(
    secret: str | bytes, body: bytes, data: st.DataObject
) -> None:
    header = "sha256=" + hmac.new(key(secret), body, hashlib.sha256).hexdigest()
    verify_meta_signature(secret, body, header)
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_meta_signature(secret, one_byte_changed(body, data), header)


@BOUNDED
@given(SECRETS, BODIES, st.data())
def test_an_x_signature_holds_for_its_body_and_fails_one_byte_away(
    secret: str | bytes, body: bytes, data: st.DataObject
) -> None:
    digest = hmac.new(key(secret), body, hashlib.sha256).digest()
    header = "sha256=" + base64.b64encode(digest).decode()
    verify_x_signature(secret, body, header)
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_x_signature(secret, one_byte_changed(body, data), header)


@BOUNDED
@given(SECRETS, BODIES, st.integers(-300, 300), st.data())
def test_a_generic_signature_holds_for_its_body_and_fails_one_byte_away(
    secret: str | bytes, body: bytes, age: int, data: st.DataObject
) -> None:
    timestamp = str(int(NOW.timestamp()))
    header = generic_signature(secret, timestamp, body)
    mac = hmac.new(key(secret), timestamp.encode() + b"." + body, hashlib.sha256)
    assert header == "sha256=" + mac.hexdigest()
    now = NOW + timedelta(seconds=age)
    verify_generic_signature(secret, body, timestamp, header, now)
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_generic_signature(secret, one_byte_changed(body, data), timestamp, header, now)


@BOUNDED
@given(SECRETS, SECRETS, BODIES)
def test_a_signature_made_with_another_secret_fails(
    secret: str | bytes, other: str | bytes, body: bytes
) -> None:
    if key(secret) == key(other):
        return
    header = "sha256=" + hmac.new(key(other), body, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureError, match="signature does not match"):
        verify_meta_signature(secret, body, header)
