"""The role table's row rules on their own (no server): an OPD holds a complaint only when both
have an OPD and it is the same one, so that the Python rules fail closed exactly where SQL's
`NULL = NULL` does."""

from dataclasses import replace

from kilas.auth.caller import Caller, Role
from kilas.auth.policy import can_read_personal_data, can_see_complaint, can_see_tracking_number
from tests._rows import complaint_row

UNHELD = complaint_row(opd_id=None, confidential=True, anonymous=False, region_code="33.74")
HELD = replace(UNHELD, opd_id=7, status="ASSIGNED")


def officer(opd_id: int | None) -> Caller:
    return Caller(role=Role.OPD_OFFICER, subject="jwt:o", opd_id=opd_id)


def test_an_officer_without_an_opd_holds_nothing_not_even_an_unheld_complaint() -> None:
    nowhere = officer(None)
    for rule in (can_see_complaint, can_read_personal_data, can_see_tracking_number):
        assert not rule(nowhere, UNHELD), rule.__name__
        assert not rule(nowhere, HELD), rule.__name__


def test_an_officer_holds_the_complaints_of_its_own_opd_only() -> None:
    for rule in (can_see_complaint, can_read_personal_data, can_see_tracking_number):
        assert rule(officer(7), HELD), rule.__name__
        assert not rule(officer(8), HELD), rule.__name__
        assert not rule(officer(7), UNHELD), rule.__name__
    assert not can_read_personal_data(officer(7), replace(HELD, anonymous=True))
