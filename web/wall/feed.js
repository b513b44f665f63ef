// A live list of complaint events (the ticker, the SLA alerts): newest first, each event once,
// and never more than `limit` items in the page however long the wall runs. Only whole lines
// show: a line the panel cannot hold entirely is hidden, never cut in half.
//
// order "arrival": newest in the log on top (the ticker: what just happened).
// order "time": by the moment each event describes, newest on top, wherever and whenever it
// arrives (the alerts: a breach's deadline, not the moment the sweeper wrote it).

import { CHANNEL, STATUS, age, eventLabel, h, regionName, wibTime } from "./format.js";

const REMEMBERED = 5000; // event ids kept to refuse a duplicate; far more than any replay overlap

export class Feed {
  constructor(list, { limit = 40, empty = "", order = "arrival" } = {}) {
    this.list = list;
    this.limit = limit;
    this.order = order;
    this.seen = new Set();
    this.empty = h("li", { class: "empty" }, empty);
    this.list.replaceChildren(this.empty);
    new ResizeObserver(() => this.fit()).observe(this.list);
  }

  // Add one event in its place; false when it was shown before or is older than every line
  // of a full list.
  add(event, { fresh = true } = {}) {
    if (this.seen.has(event.id)) return false;
    this.seen.add(event.id);
    if (this.seen.size > REMEMBERED) {
      this.seen.delete(this.seen.values().next().value);
    }
    const item = renderEvent(event);
    const below = [...this.list.querySelectorAll(":scope > [data-cursor]")].find((other) =>
      this.before(item, other),
    );
    if (!below && this.list.querySelectorAll(":scope > [data-cursor]").length >= this.limit) {
      return false;
    }
    this.empty.remove();
    if (fresh) item.classList.add("fresh");
    this.list.insertBefore(item, below ?? null);
    while (this.list.children.length > this.limit) this.list.lastElementChild.remove();
    this.fit();
    return true;
  }

  // Whether line `a` goes above line `b`.
  before(a, b) {
    if (this.order === "time" && a.dataset.at !== b.dataset.at) {
      return Number(a.dataset.at) > Number(b.dataset.at);
    }
    return cursorAfter(a.dataset.cursor, b.dataset.cursor);
  }

  // Hide the lines that do not fit whole in the list's box.
  fit() {
    const height = this.list.clientHeight;
    for (const item of this.list.children) {
      item.classList.toggle("unfit", item.offsetTop + item.offsetHeight > height + 1);
    }
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
        at: String(Date.parse(event.occurredAt)),
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
