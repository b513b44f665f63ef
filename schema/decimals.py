"""One convention for non-integer numbers in JSON. Money and quantities (rupiah, targets and
achievements, kilometres) are `Decimal`: exact, sent as a string of plain digits, because a
budget of up to 18 digits is beyond what a JavaScript number holds exactly (about 15 digits).
Percentages, shares, hours, ratings and coordinates are `Float`: JSON numbers, already rounded
for people to read, never summed back into an amount."""

from decimal import Decimal

from strawberry.schema.types.base_scalars import DecimalDefinition
from strawberry.types.scalar import ScalarDefinition


def plain_digits(value: Decimal) -> str:
    # asyncpg returns round numerics in exponent form (1.500E+11); clients expect digits.
    return format(value, "f")


EXACT_DECIMAL = ScalarDefinition(
    name="Decimal",
    description="An exact decimal number, sent as a JSON string of plain digits (e.g. "
    '"150000000000", "12.50"): money in rupiah and quantities. Accepted as such a string or a '
    "JSON number. Percentages and shares are Float, JSON numbers.",
    specified_by_url=None,
    serialize=plain_digits,
    parse_value=DecimalDefinition.parse_value,
    parse_literal=None,
    origin=Decimal,
)
SCALARS: dict[object, ScalarDefinition] = {Decimal: EXACT_DECIMAL}


def percent(value: float) -> Decimal:
    """A percentage given as a JSON number, as the exact decimal it was written as (45.5, not
    45.49999…): repr gives the shortest digits that read back as the same float."""
    return Decimal(repr(value))
