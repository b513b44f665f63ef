"""What a simulation did: the events it wrote, the refusals it met, the messages it delivered,
and every action in order (the same --seed makes the same list)."""

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Report:
    events: Counter[str] = field(default_factory=Counter)  # event type -> how many written
    refusals: Counter[str] = field(default_factory=Counter)  # error code -> how many
    delivered: Counter[str] = field(default_factory=Counter)  # platform -> messages taken
    undelivered: Counter[str] = field(default_factory=Counter)  # "platform HTTP 401" -> how many
    actions: list[str] = field(default_factory=list)  # "n:mutation" or "n:deliver X", in order

    @property
    def written(self) -> int:
        return sum(self.events.values())

    def summary(self) -> str:
        summary = f"{self.written} events written ({_counts(self.events)}); "
        summary += f"refused: {_counts(self.refusals)}"
        if self.delivered or self.undelivered:
            summary += f"; messages delivered: {_counts(self.delivered)}"
        if self.undelivered:
            summary += f"; not delivered: {_counts(self.undelivered)}"
        return summary


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
