"""Where a channel message goes, decided by the accounts the citizen addressed: straight to the
OPD whose verified account they wrote to, mentioned or commented on, or to the command center's
verification queue. Pure: the accounts are looked up first (db.channel_accounts)."""

from collections.abc import Iterable
from dataclasses import dataclass

from kilas.channels import Addressed
from kilas.db.channel_accounts import KnownAccountRow
from kilas.domain.routing import Reason, Route


@dataclass(frozen=True)
class Decision:
    route: Route
    reason: Reason
    opd_id: int | None
    # The account that decided, as "@handle" (or the OPD's slug); None when none did.
    account: str | None


def _matches(account: KnownAccountRow, addressed: Addressed) -> bool:
    if addressed.account_id is not None and account.external_id == addressed.account_id:
        return True
    return (
        addressed.handle is not None
        and account.handle.lower() == addressed.handle.lstrip("@").lower()
    )


def _named(accounts: Iterable[KnownAccountRow]) -> str | None:
    handles = sorted(f"@{account.handle}" for account in accounts)
    return ", ".join(handles) if handles else None


def decide(
    addressed: tuple[Addressed, ...],
    known: list[KnownAccountRow],
    named_opds: dict[str, int] | None = None,
) -> Decision:
    """The same message always gets the same decision, whichever of its addressed accounts the
    delivery came through (a tweet mentioning an OPD and the governor reaches Kilas once per
    subscribed account): a verified OPD account decides over the province's accounts."""
    if not addressed:
        return Decision(Route.VERIFICATION_QUEUE, Reason.NO_ACCOUNT, None, None)
    matched = [a for a in known if any(_matches(a, item) for item in addressed)]
    verified = [a for a in matched if a.owner == "OPD" and a.verified]
    opds = {a.opd_id for a in verified}
    if len(opds) == 1:
        (opd_id,) = opds
        return Decision(Route.OPD, Reason.VERIFIED_OPD_ACCOUNT, opd_id, _named(verified))
    if len(opds) > 1:
        return Decision(Route.VERIFICATION_QUEUE, Reason.SEVERAL_OPDS, None, _named(verified))
    named = sorted((named_opds or {}).items())
    if len(named) == 1:
        slug, opd_id = named[0]
        return Decision(Route.OPD, Reason.OPD_NAMED_BY_SENDER, opd_id, slug)
    province = [a for a in matched if a.owner == "PROVINCE"]
    if province:
        return Decision(Route.VERIFICATION_QUEUE, Reason.PROVINCE_ACCOUNT, None, _named(province))
    if matched:
        return Decision(
            Route.VERIFICATION_QUEUE, Reason.UNVERIFIED_OPD_ACCOUNT, None, _named(matched)
        )
    shown = [
        f"@{item.handle.lstrip('@')}" if item.handle else item.account_id for item in addressed
    ]
    return Decision(
        Route.VERIFICATION_QUEUE,
        Reason.UNKNOWN_ACCOUNT,
        None,
        ", ".join(name for name in shown if name) or None,
    )
