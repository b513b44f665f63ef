// The wall's figures: counts by status and channel, the OPD leaderboard, the road programme's
// progress (Jalan Cantik's in Central Java).

import { CHANNEL, STATUS, count, h, oneDecimal, percent, regionName, rupiah } from "./format.js";

const STATUSES = Object.keys(STATUS);

export class Counts {
  constructor(element, channels) {
    this.tiles = new Map();
    const tile = (key, label, extra = "") =>
      h(
        "div",
        { class: `tile ${extra}`, dataset: { status: key } },
        h("span", { class: "label" }, label),
        h("span", { class: "count" }, "–"),
        h("span", { class: "delta" }),
      );
    const tiles = [
      tile("TOTAL", "Semua aduan", "total"),
      tile("TODAY", "Masuk hari ini", "today"),
      ...STATUSES.map((status) => tile(status, STATUS[status], `status-${status}`)),
      tile("BREACHES", "Lewat tenggat SLA", "breaches"),
    ];
    for (const element of tiles) this.tiles.set(element.dataset.status, element);
    element.replaceChildren(...tiles);
    this.channels = channels;
  }

  update(dashboard) {
    const byStatus = Object.fromEntries(dashboard.byStatus.map((s) => [s.status, s.count]));
    const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
    this.set("TOTAL", total);
    this.set("TODAY", dashboard.intakeToday);
    for (const status of STATUSES) this.set(status, byStatus[status] ?? 0);
    this.set("BREACHES", dashboard.breachesOpenNow);
    this.tiles.get("BREACHES").classList.toggle("alarm", dashboard.breachesOpenNow > 0);
    this.updateChannels(dashboard.byChannel, total);
  }

  set(key, value) {
    const tile = this.tiles.get(key);
    const counter = tile.querySelector(".count");
    const before = Number(tile.dataset.value ?? value);
    tile.dataset.value = String(value);
    counter.textContent = count(value);
    if (value !== before) {
      const delta = tile.querySelector(".delta");
      const change = count(Math.abs(value - before));
      delta.textContent = value > before ? `+${change}` : `−${change}`;
      tile.classList.remove("changed");
      void tile.offsetWidth; // restart the highlight
      tile.classList.add("changed");
    }
  }

  updateChannels(byChannel, total) {
    const rows = [...byChannel].sort((a, b) => b.count - a.count);
    this.channels.replaceChildren(
      ...rows.map((row) =>
        h(
          "li",
          { dataset: { channel: row.channel } },
          h("span", { class: "name" }, CHANNEL[row.channel] ?? row.channel),
          h(
            "span",
            { class: "bar" },
            h("span", { style: { width: share(row.count, total) } }),
          ),
          h("span", { class: "value" }, count(row.count)),
        ),
      ),
    );
  }
}

export function renderLeaderboard(element, entries, { highlight = null, limit = 10 } = {}) {
  const head = h(
    "tr",
    {},
    h("th", { class: "rank" }, "#"),
    h("th", {}, "OPD"),
    h("th", { class: "num", title: "Tindak lanjut pertama dalam tenggat SLA" }, "Tepat SLA"),
    h("th", { class: "num", title: "Median jam sampai tindak lanjut pertama" }, "Median respons"),
    h("th", { class: "num" }, "Antrean"),
    h("th", { class: "num", title: "Rata-rata penilaian pelapor" }, "Nilai"),
  );
  const shown = entries.slice(0, limit);
  const mine = highlight && entries.find((e) => e.opd.slug === highlight);
  if (mine && !shown.includes(mine)) shown.push(mine);
  const rows = shown.map((entry) =>
    h(
      "tr",
      { class: entry.opd.slug === highlight ? "mine" : "", dataset: { opd: entry.opd.slug } },
      h("td", { class: "rank" }, entry.rank),
      h("td", { class: "opd", title: entry.opd.name }, entry.opd.shortName),
      h("td", { class: "num share" }, shareBar(entry.responseSlaShare)),
      h(
        "td",
        { class: "num" },
        entry.medianResponseHours == null ? "–" : `${oneDecimal(entry.medianResponseHours)} jam`,
      ),
      h("td", { class: "num" }, count(entry.backlog)),
      h("td", { class: "num" }, rating(entry.averageRating)),
    ),
  );
  const body = rows.length
    ? rows
    : [h("tr", {}, h("td", { class: "empty", colspan: 6 }, "Belum ada OPD dengan cukup aduan."))];
  element.replaceChildren(h("thead", {}, head), h("tbody", {}, ...body));
}

function share(part, total) {
  return `${((100 * part) / Math.max(1, total)).toFixed(1)}%`;
}

function rating(value) {
  return value == null ? "–" : `★ ${oneDecimal(value)}`;
}

function shareBar(fraction) {
  if (fraction == null) return "–";
  const value = fraction * 100;
  const level = value >= 90 ? "good" : value >= 70 ? "fair" : "poor";
  return h(
    "span",
    { class: `share-bar ${level}` },
    h("span", { class: "fill", style: { width: `${value.toFixed(0)}%` } }),
    h("span", { class: "text" }, percent(value)),
  );
}

export function renderProgramme(element, programme, { region = null } = {}) {
  if (!programme) {
    const note = "Data program jalan belum tersedia.";
    element.replaceChildren(h("p", { class: "empty" }, note));
    return;
  }
  const items = programme.workItems.filter((item) => !region || item.region.code === region);
  const sorted = [...items].sort((a, b) => Number(b.progressPct) - Number(a.progressPct));
  element.replaceChildren(
    h(
      "div",
      { class: "programme-figures" },
      figure(
        "Capaian fisik",
        programme.achievementPct,
        `${oneDecimal(programme.achievement)} dari ${oneDecimal(programme.target)} ` +
          programme.unit,
      ),
      figure(
        "Serapan anggaran",
        programme.absorptionPct,
        `${rupiah(programme.realisationIdr)} dari ${rupiah(programme.budgetIdr)}`,
      ),
    ),
    h(
      "ul",
      { class: "work-items" },
      sorted.length
        ? sorted.map((item) =>
            h(
              "li",
              { dataset: { workItem: item.id, region: item.region.code } },
              h("span", { class: "name", title: item.roadSegment ?? "" }, item.name),
              h("span", { class: "where" }, regionName(item.region)),
              h(
                "span",
                { class: `progress ${statusClass(item)}` },
                h("span", { class: "fill", style: { width: `${Number(item.progressPct)}%` } }),
                h("span", { class: "text" }, `${oneDecimal(item.progressPct)}%`),
              ),
              h(
                "span",
                { class: "linked", title: "Aduan yang ditautkan ke paket ini" },
                item.linkedComplaints.length ? `${count(item.linkedComplaints.length)} aduan` : "",
              ),
            ),
          )
        : h("li", { class: "empty" }, "Tidak ada paket pekerjaan jalan di wilayah ini."),
    ),
  );
}

function statusClass(item) {
  const progress = Number(item.progressPct);
  return progress >= 100 ? "done" : progress > 0 ? "ongoing" : "planned";
}

function figure(label, value, detail) {
  return h(
    "div",
    { class: "figure" },
    h("span", { class: "label" }, label),
    h("span", { class: "value" }, percent(value)),
    h(
      "span",
      { class: "progress" },
      h("span", { class: "fill", style: { width: `${Math.min(100, value)}%` } }),
    ),
    h("span", { class: "detail" }, detail),
  );
}
