// Central Java's 35 regencies and cities, each at its seat's coordinates, coloured and sized by
// its open backlog; a region flashes when one of its complaints changes and carries a red ring
// for a while after an SLA breach or escalation. Jalan Cantik work items are small diamonds.

import { count, regionName, svg } from "./format.js";

const WIDTH = 1000;
const PAD = 48;
const BREACH_RING_MS = 15 * 60 * 1000;
const SCALE = ["#1f6f78", "#3a9d6e", "#c9a227", "#e07b24", "#e0413a"];
// Where a name goes when below its dot (above for a city) would cover a neighbour's.
const LABEL_PLACE = { "33.03": "above", "33.76": "right" };

export class RegionMap {
  constructor(element, regions, { focus = null } = {}) {
    this.element = element;
    this.focus = focus;
    this.nodes = new Map();
    this.breaches = new Map(); // region code -> time of the last breach alert
    const lats = regions.map((r) => r.seatLocation.lat);
    const lons = regions.map((r) => r.seatLocation.lon);
    const [south, north] = [Math.min(...lats), Math.max(...lats)];
    const [west, east] = [Math.min(...lons), Math.max(...lons)];
    // Equirectangular around the province's middle latitude: fine at this size, near the equator.
    const k = Math.cos((((south + north) / 2) * Math.PI) / 180);
    this.scale = (WIDTH - 2 * PAD) / ((east - west) * k);
    this.height = Math.round((north - south) * this.scale + 2 * PAD);
    this.project = ({ lat, lon }) => [
      PAD + (lon - west) * k * this.scale,
      PAD + (north - lat) * this.scale,
    ];
    element.setAttribute("viewBox", `0 0 ${WIDTH} ${this.height}`);
    element.replaceChildren(
      svg("text", { class: "sea", x: WIDTH / 2, y: 22 }, "LAUT JAWA"),
      svg("text", { class: "sea", x: WIDTH / 2, y: this.height - 8 }, "SAMUDRA HINDIA"),
      (this.itemsLayer = svg("g", { class: "work-items" })),
      (this.regionsLayer = svg("g", { class: "regions" })),
      (this.pulses = svg("g", { class: "pulses" })),
      (this.legend = svg("g", { class: "legend", transform: "translate(150 52)" })),
    );
    // Small cities first, so their labels sit above the regencies around them.
    const rank = (region) => (region.type === "KOTA" ? 1 : 0);
    const ordered = [...regions].sort((a, b) => rank(a) - rank(b));
    for (const region of ordered) this.addRegion(region);
    this.update([]);
  }

  addRegion(region) {
    const [x, y] = this.project(region.seatLocation);
    const kota = region.type === "KOTA";
    const circle = svg("circle", { class: "dot", cx: x, cy: y, r: 8 });
    const ring = svg("circle", { class: "breach-ring", cx: x, cy: y, r: 14 });
    const number = svg("text", { class: "count", x, y: y + 4 }, "0");
    const place = LABEL_PLACE[region.code] ?? (kota ? "above" : "below");
    const label = svg(
      "text",
      {
        class: `name${kota ? " kota" : ""} ${place}`,
        x: place === "right" ? x + 12 : place === "left" ? x - 12 : x,
        y: { above: y - 14, below: y + 26, right: y + 5, left: y + 5 }[place],
      },
      kota ? `Kota ${region.name}` : region.name,
    );
    const title = svg("title", {}, regionName(region));
    const group = svg(
      "g",
      {
        class: `region ${kota ? "kota" : "kabupaten"}`,
        dataset: { code: region.code },
      },
      title,
      ring,
      circle,
      number,
      label,
    );
    if (this.focus && this.focus !== region.code) group.classList.add("dimmed");
    if (this.focus === region.code) group.classList.add("focus");
    this.regionsLayer.append(group);
    this.nodes.set(region.code, { region, x, y, kota, group, circle, ring, number, label, title });
  }

  // byRegion: the dashboard's [{regionCode, count, open}].
  update(byRegion) {
    const open = new Map(byRegion.map((r) => [r.regionCode, r.open]));
    const most = Math.max(1, ...open.values());
    for (const [code, node] of this.nodes) {
      const value = open.get(code) ?? 0;
      const share = value / most;
      const radius = (node.kota ? 6 : 8) + 14 * Math.sqrt(share);
      node.circle.setAttribute("r", radius.toFixed(1));
      node.ring.setAttribute("r", (radius + 6).toFixed(1));
      node.circle.style.fill = value === 0 ? "" : SCALE[Math.min(4, Math.floor(share * 5))];
      node.group.classList.toggle("zero", value === 0);
      node.number.textContent = value ? count(value) : "";
      node.group.dataset.open = String(value);
      node.title.textContent = `${regionName(node.region)}: ${count(value)} aduan terbuka`;
    }
    this.drawLegend(most);
  }

  drawLegend(most) {
    const steps = SCALE.map((colour, i) => [colour, Math.ceil((most * i) / 5)]);
    this.legend.replaceChildren(
      svg("text", { class: "legend-title", x: 0, y: 0 }, "Aduan terbuka per wilayah"),
      ...steps.map(([colour, from], i) =>
        svg(
          "g",
          { transform: `translate(${i * 58} 12)` },
          svg("rect", { width: 54, height: 10, rx: 2, fill: colour }),
          svg("text", { class: "legend-value", x: 0, y: 26 }, `≥ ${count(from)}`),
        ),
      ),
      svg(
        "g",
        { transform: "translate(0 50)" },
        svg("circle", { class: "breach-ring legend-ring", cx: 7, cy: 5, r: 7 }),
        svg("text", { class: "legend-value", x: 20, y: 9 }, "pelanggaran SLA (15 menit)"),
      ),
      svg(
        "g",
        { transform: "translate(232 50)" },
        svg("rect", {
          class: "work-item",
          x: 2,
          y: 0,
          width: 9,
          height: 9,
          transform: "rotate(45 6.5 4.5)",
        }),
        svg("text", { class: "legend-value", x: 20, y: 9 }, "paket Jalan Cantik"),
      ),
    );
  }

  // A short ripple where a complaint just changed; each removes itself.
  pulse(code, kind = "event") {
    const node = this.nodes.get(code);
    if (!node) return;
    const ripple = svg("circle", { class: `pulse ${kind}`, cx: node.x, cy: node.y, r: 10 });
    ripple.addEventListener("animationend", () => ripple.remove());
    this.pulses.append(ripple);
    while (this.pulses.children.length > 60) this.pulses.firstElementChild.remove();
  }

  // A breach or escalation recorded at `at`: a ring while it is recent.
  breach(code, at = Date.now()) {
    if (!this.nodes.has(code) || Date.now() - at > BREACH_RING_MS) return;
    this.breaches.set(code, Math.max(at, this.breaches.get(code) ?? 0));
    this.pulse(code, "alert");
    this.tick();
  }

  tick(now = Date.now()) {
    for (const [code, node] of this.nodes) {
      const at = this.breaches.get(code);
      const recent = at !== undefined && now - at < BREACH_RING_MS;
      node.group.classList.toggle("breached", recent);
      if (!recent) this.breaches.delete(code);
    }
  }

  workItems(items) {
    this.itemsLayer.replaceChildren(
      ...items
        .filter((item) => item.location)
        .map((item) => {
          const [x, y] = this.project(item.location);
          const progress = Number(item.progressPct);
          const state = progress >= 100 ? "done" : progress > 0 ? "ongoing" : "planned";
          return svg(
            "rect",
            {
              class: `work-item ${state}`,
              x: x - 5,
              y: y - 5,
              width: 10,
              height: 10,
              transform: `rotate(45 ${x} ${y})`,
              dataset: { region: item.region.code },
            },
            svg("title", {}, `${item.name}: ${count(progress)}%`),
          );
        }),
    );
  }
}
