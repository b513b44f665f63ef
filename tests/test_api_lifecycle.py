"""The complaint lifecycle over real HTTP: from a tweet to a rated resolution."""

from tests import ops
from tests.wire import RunningServer, gql_data

TIMELINE = """
query Track($number: String!) {
  complaint(trackingNumber: $number) {
    status rating
    timeline { nodes { type fromStatus toStatus note } }
  }
}
"""


async def test_a_complaint_goes_from_a_tweet_to_a_rated_resolution(server: RunningServer) -> None:
    url = server.http_url
    submitted = await ops.submit(url, externalRef="1790000000000000001")
    complaint = submitted["complaint"]
    assert submitted["created"] is True
    assert complaint["status"] == "RECEIVED"
    assert complaint["trackingNumber"].startswith("JTG-")

    cid = complaint["id"]
    assigned = await ops.act_ok(url, "assignComplaint", complaintId=cid, expectedVersion=1)
    assert assigned["complaint"]["status"] == "ASSIGNED"
    assert assigned["complaint"]["opd"]["shortName"] == "DPUBMCK"
    assert assigned["complaint"]["responseDueAt"] is not None
    await ops.act_ok(url, "recordFollowUp", complaintId=cid, message="Tim UPT meninjau lokasi.")
    await ops.act_ok(url, "recordFollowUp", complaintId=cid, message="Penambalan besok pagi.")
    await ops.act_ok(url, "resolveComplaint", complaintId=cid, resolution="Lubang sudah ditambal.")
    closed = await ops.act_ok(url, "confirmResolution", complaintId=cid, rating=5, comment="Cepat!")
    assert closed["complaint"]["status"] == "CLOSED"
    assert closed["complaint"]["version"] == 6

    data = await gql_data(url, TIMELINE, {"number": complaint["trackingNumber"].lower()})
    tracked = data["complaint"]
    assert tracked["rating"] == 5
    assert [(e["type"], e["toStatus"]) for e in tracked["timeline"]["nodes"]] == [
        ("SUBMITTED", "RECEIVED"),
        ("ASSIGNED", "ASSIGNED"),
        ("FOLLOWED_UP", "IN_PROGRESS"),
        ("FOLLOWED_UP", "IN_PROGRESS"),
        ("RESOLVED", "RESOLVED"),
        ("CONFIRMED", "CLOSED"),
    ]


async def test_submitting_the_same_channel_reference_twice_returns_the_first_complaint(
    server: RunningServer,
) -> None:
    first = await ops.submit(server.http_url, externalRef="wa-msg-77", channel="WHATSAPP")
    again = await ops.submit(
        server.http_url, externalRef="wa-msg-77", channel="WHATSAPP", text="teks lain"
    )
    assert again["created"] is False
    assert again["event"] is None
    assert again["complaint"]["id"] == first["complaint"]["id"]
    assert again["complaint"]["text"] == first["complaint"]["text"]
    other_channel = await ops.submit(server.http_url, externalRef="wa-msg-77", channel="SMS")
    assert other_channel["created"] is True
