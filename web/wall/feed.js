// A live list of complaint events (the ticker, the SLA alerts): newest first, each event once,
// and never more than `limit` items in the page however long the wall runs.

import { CHANNEL, STATUS, age, eventLabel, h, regionName, wibTime } from "./format.js";

const REMEMBERED = 5000; // event ids kept to refuse a duplicate; far more than any replay overlap

export class Feed {
  constructor(list, { limit = 40, empty = "" } = {}) {
    this.list = list;
    this.limit = limit;
    this.seen = new Set();
    this.empty = h("li", { class: "empty" }, empty);
    this.list.replaceChildren(this.empty);
  }

  // Add one event on top; false when it was shown before.
  add(event, { fresh = true } = {}) {
    if (this.seen.has(event.id)) return false;
    this.seen.add(event.id);
    if (this.seen.size > REMEMBERED) {
      this.seen.delete(this.seen.values().next().value);
    }
    this.empty.remove();
    const item = renderEvent(event);
    if (fresh) item.classList.add("fresh");
    this.list.prepend(item);
    while (this.list.children.length > this.limit) this.list.lastElementChild.remove();
    return true;
  }

  refreshAges(now = Date.now()) {
    for (const element of this.list.querySelectorAll("[data-since]")) {
      element.textContent = age(element.dataset.since, now);
    }
  }
}

function renderEvent(event) {
  const complaint = event.complaint ?? {};
  const opd = event.opd?.shortName;
  const moved =
    event.type === "REASSIGNED" && event.fromOpd ? `${event.fromOpd.shortName} → ${opd}` : opd;
  return h(
    "li",
    {
      class: `event type-${event.type}`,
      dataset: {
        cursor: event.cursor,
        event: event.id,
        type: event.type,
        region: event.region?.code ?? "",
        complaint: complaint.id ?? "",
      },
    },
    h("time", { class: "when", datetime: event.occurredAt }, wibTime(event.occurredAt)),
    h(
      "div",
      { class: "what" },
      h("span", { class: "label" }, eventLabel(event)),
      h("span", { class: "status" }, STATUS[event.toStatus] ?? ""),
    ),
    h(
      "div",
      { class: "meta" },
      h("span", { class: "channel" }, CHANNEL[complaint.channel] ?? ""),
      h("span", { class: "region" }, regionName(event.region)),
      h("span", { class: "category" }, complaint.category?.name ?? "Belum dikategorikan"),
      moved ? h("span", { class: "opd" }, moved) : null,
    ),
    h(
      "span",
      { class: "age", title: "Umur aduan", dataset: { since: complaint.createdAt } },
      age(complaint.createdAt),
    ),
  );
}

// Compare two event cursors: decimal positions in the event log, else as text.
export function cursorAfter(a, b) {
  if (b == null) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a > b;
}
