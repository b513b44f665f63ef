"""Channel intake's pure rules, without a database: the region a message is about, and where the
accounts it addresses send it."""

import pytest

from kilas.channels import Addressed
from kilas.db.channel_accounts import KnownAccountRow
from kilas.db.reference import RegionRow
from kilas.intake.regions import RegionFinder, RegionSource, distance_km
from kilas.intake.routing import Reason, Route, decide
from kilas.packs import DEFAULT_PACK, load_pack


def regions() -> list[RegionRow]:
    # Some of the migrations' seed rows (db/migrations/0002), as the table holds them.
    rows = [
        ("33.01", "Cilacap", "KABUPATEN", "Cilacap", -7.7188, 109.0154),
        ("33.02", "Banyumas", "KABUPATEN", "Purwokerto", -7.4245, 109.2302),
        ("33.19", "Kudus", "KABUPATEN", "Kudus", -6.8048, 110.8405),
        ("33.22", "Semarang", "KABUPATEN", "Ungaran", -7.1386, 110.4050),
        ("33.28", "Tegal", "KABUPATEN", "Slawi", -6.9818, 109.1404),
        ("33.72", "Surakarta", "KOTA", "Surakarta", -7.5755, 110.8243),
        ("33.74", "Semarang", "KOTA", "Semarang", -6.9667, 110.4167),
        ("33.76", "Tegal", "KOTA", "Tegal", -6.8694, 109.1402),
    ]
    return [RegionRow(*row) for row in rows]


# "Solo" is Surakarta by Central Java's pack.
FINDER = RegionFinder(regions(), "33.74", load_pack(DEFAULT_PACK).aliases)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Jalan rusak di Kab. Kudus dekat pasar", "33.19"),
        ("jalan rusak di kabupaten semarang, dekat Ungaran", "33.22"),
        ("Lampu mati di Kota Tegal", "33.76"),
        ("Banjir di Kabupaten Tegal", "33.28"),
        # A name a city and a regency share means the city, which the seat's name is too.
        ("Macet parah di Semarang", "33.74"),
        ("Sampah menumpuk di Solo", "33.72"),
        ("Jalan berlubang di Purwokerto", "33.02"),
        # The earliest mention decides.
        ("Dari Cilacap ke Purwokerto jalannya rusak", "33.01"),
        # A word that merely contains a name is no mention.
        ("Kudusan bukan nama daerah", "33.74"),
    ],
)
def test_the_region_a_text_names(text: str, code: str) -> None:
    located = FINDER.locate(text, None)
    assert located.code == code
    named = "Kudusan" not in text
    assert located.source is (RegionSource.TEXT if named else RegionSource.DEFAULT)


def test_a_location_in_the_province_decides_over_the_text() -> None:
    near_kudus = (-6.81, 110.84)
    located = FINDER.locate("Jalan rusak di Kota Tegal", near_kudus)
    assert (located.code, located.source) == ("33.19", RegionSource.LOCATION)
    # Far from every seat (a phone's 0,0): the text decides.
    assert FINDER.locate("Jalan rusak di Kota Tegal", (0.0, 0.0)).code == "33.76"
    assert round(distance_km(-6.9667, 110.4167, -7.5755, 110.8243)) == 81


def test_a_default_region_that_is_no_region_is_refused() -> None:
    with pytest.raises(ValueError, match=r"33\.99"):
        RegionFinder(regions(), "33.99")


def account(owner: str, opd_id: int | None, handle: str, external_id: str | None,
            verified: bool) -> KnownAccountRow:  # fmt: skip
    return KnownAccountRow(owner, opd_id, "x", "X", handle, external_id, verified)


KNOWN = [
    account("OPD", 1, "dpu_jateng", "444", True),
    account("OPD", 1, "dpu_jateng_ig", None, True),
    account("OPD", 2, "dishub_jateng", None, True),
    account("OPD", 3, "dinkes_jateng", None, False),
    account("PROVINCE", None, "gubernur_jateng", "69", True),
]


@pytest.mark.parametrize(
    ("addressed", "route", "reason", "opd_id"),
    [
        ([Addressed("444", None)], Route.OPD, Reason.VERIFIED_OPD_ACCOUNT, 1),
        ([Addressed(None, "@DPU_Jateng")], Route.OPD, Reason.VERIFIED_OPD_ACCOUNT, 1),
        # Two accounts of one OPD are one OPD.
        (
            [Addressed(None, "dpu_jateng"), Addressed(None, "dpu_jateng_ig")],
            Route.OPD, Reason.VERIFIED_OPD_ACCOUNT, 1,
        ),
        (
            [Addressed(None, "dpu_jateng"), Addressed(None, "dishub_jateng")],
            Route.VERIFICATION_QUEUE, Reason.SEVERAL_OPDS, None,
        ),
        (
            [Addressed("69", None), Addressed(None, "dishub_jateng")],
            Route.OPD, Reason.VERIFIED_OPD_ACCOUNT, 2,
        ),
        ([Addressed("69", None)], Route.VERIFICATION_QUEUE, Reason.PROVINCE_ACCOUNT, None),
        (
            [Addressed(None, "dinkes_jateng")],
            Route.VERIFICATION_QUEUE, Reason.UNVERIFIED_OPD_ACCOUNT, None,
        ),
        ([Addressed("5", "nobody")], Route.VERIFICATION_QUEUE, Reason.UNKNOWN_ACCOUNT, None),
        ([], Route.VERIFICATION_QUEUE, Reason.NO_ACCOUNT, None),
    ],
)  # fmt: skip
def test_where_the_addressed_accounts_send_a_message(
    addressed: list[Addressed], route: Route, reason: Reason, opd_id: int | None
) -> None:
    decision = decide(tuple(addressed), KNOWN)
    assert (decision.route, decision.reason, decision.opd_id) == (route, reason, opd_id)


def test_the_same_message_gets_the_same_decision_in_any_order() -> None:
    items = [Addressed("69", None), Addressed(None, "dpu_jateng"), Addressed("999", None)]
    decisions = {
        decide(tuple(order), KNOWN) for order in (items, items[::-1], items[1:] + items[:1])
    }
    assert len(decisions) == 1


def test_a_partner_naming_an_opd_sends_it_there_unless_an_account_decides() -> None:
    named = decide((Addressed("dpubmck", None),), [], {"dpubmck": 1})
    assert (named.route, named.reason, named.opd_id) == (Route.OPD, Reason.OPD_NAMED_BY_SENDER, 1)
