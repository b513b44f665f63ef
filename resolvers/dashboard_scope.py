"""The dashboard filter of the API, checked and turned into a live.dashboard scope."""

from kilas.domain.errors import not_found
from kilas.live.dashboard import DashboardScope
from kilas.resolvers.context import Info
from kilas.schema import inputs
from kilas.schema.ids import decode_id


async def dashboard_scope(info: Info, f: inputs.DashboardFilter | None) -> DashboardScope:
    """Unknown OPDs and regions are refused: every scope asked for keeps a live feed."""
    if f is None:
        return DashboardScope()
    loaders = info.context.loaders
    opd_id = decode_id(f.opd_id, "Opd", "filter.opdId") if f.opd_id else None
    if opd_id is not None and await loaders.opd_by_id.load(opd_id) is None:
        raise not_found("OPD", f.opd_id, "filter.opdId")
    region_code = f.region_code.strip() if f.region_code else None
    if region_code is not None and await loaders.region_by_code.load(region_code) is None:
        raise not_found("region", region_code, "filter.regionCode")
    return DashboardScope(opd_id=opd_id, region_code=region_code)
