"""The media type of a GraphQL response, as GraphQL over HTTP negotiates it from the request's
Accept header: `application/graphql-response+json` for a client that asks for it (its request
errors then answered 400, without a `data` entry), `application/json` for every other client as
before (no Accept header, `*/*`, `application/json`), and nothing (406) for a client that
accepts neither."""

from dataclasses import dataclass

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_TYPE = f"{GRAPHQL_RESPONSE}; charset=utf-8"
# The scope key under which the view finds the negotiated type.
MEDIA_KEY = "kilas.media"


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float

    def specificity(self, media: str) -> int:
        """How closely this range names `media` (3: exactly, 2: `application/*`, 1: `*/*`),
        0 when it does not match it."""
        kind, sub = media.split("/")
        if self.type == kind and self.subtype == sub:
            return 3
        if self.type == kind and self.subtype == "*":
            return 2
        if self.type == "*" and self.subtype == "*":
            return 1
        return 0


def _ranges(accept: str) -> list[_Range]:
    found = []
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.count("/") != 1:
            continue
        kind, sub = (side.strip().lower() for side in media.split("/"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        found.append(_Range(kind, sub, q))
    return found


def _quality(ranges: list[_Range], media: str) -> tuple[float, int]:
    """The q the most specific matching range gives `media` (RFC 9110 §12.5.1), and how
    specific that range is."""
    best: tuple[int, float] = (0, 0.0)
    for r in ranges:
        specificity = r.specificity(media)
        if specificity > best[0] or (specificity == best[0] and specificity and r.q > best[1]):
            best = (specificity, r.q)
    return best[1], best[0]


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with; None when the client accepts neither. A client that
    names both equally gets `application/graphql-response+json`; a wildcard alone means
    `application/json`, as it always has."""
    if accept is None or not accept.strip():
        return JSON
    ranges = _ranges(accept)
    if not ranges:
        return JSON
    json_q, _ = _quality(ranges, JSON)
    graphql_q, graphql_exact = _quality(ranges, GRAPHQL_RESPONSE)
    if graphql_q <= 0 and json_q <= 0:
        return None
    if graphql_q > json_q:
        return GRAPHQL_RESPONSE
    if json_q > graphql_q:
        return JSON
    # Equal: the type named outright wins over one a wildcard reaches; both named, the newer.
    return GRAPHQL_RESPONSE if graphql_exact == 3 else JSON


def content_type_of(media: str | None) -> str:
    """The Content-Type header of an answer in the negotiated `media` (JSON when none)."""
    return GRAPHQL_RESPONSE_TYPE if media == GRAPHQL_RESPONSE else JSON


def accepts_html(accept: str | None) -> bool:
    """A browser's request for GraphiQL (`text/html` named outright)."""
    return accept is not None and any(
        r.type == "text" and r.subtype == "html" and r.q > 0 for r in _ranges(accept)
    )
