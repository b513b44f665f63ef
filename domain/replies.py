"""The rules of reply templates: which events answer the citizen, and what a template may say."""

import re

from kilas.domain.errors import invalid

ANSWERED_EVENTS = (
    "SUBMITTED",
    "ASSIGNED",
    "FOLLOWED_UP",
    "RESOLVED",
    "REJECTED",
    "MERGED",
    "ORIGINAL_RESOLVED",
)
PLACEHOLDERS = frozenset({"opd", "nomor"})
MAX_TEMPLATE = 500
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def checked_template(event_type: str, text: str) -> str:
    if event_type not in ANSWERED_EVENTS:
        raise invalid("eventType", f"replies answer {', '.join(ANSWERED_EVENTS)}; not {event_type}")
    text = text.strip()
    if not 1 <= len(text) <= MAX_TEMPLATE:
        raise invalid("text", f"a reply template has 1 to {MAX_TEMPLATE} characters")
    unknown = sorted(set(_PLACEHOLDER.findall(text)) - PLACEHOLDERS)
    if unknown:
        raise invalid(
            "text",
            f"unknown placeholder {{{unknown[0]}}}: a template may use {{opd}} and {{nomor}}",
        )
    if text.count("{") != text.count("}"):
        raise invalid("text", "a brace without its pair: write placeholders as {opd}, {nomor}")
    return text
