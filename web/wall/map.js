// The province's regencies and cities (Central Java's 35, North Sumatra's 33: the pack's), each
// at its seat's coordinates over the province's outline, coloured and sized by its open backlog; a region flashes when one of its complaints changes and carries a red ring
// for 15 minutes after one of its deadlines was breached. The road programme's work items are
// small diamonds. Seats crowd (Kota Pekalongan by Batang, Kota Surakarta between Karanganyar and
// Sukoharjo): each name takes the first place around its dot that covers no other name, dot
// or the legend, farther out with a leader line when none near is free.

import { count, regionName, svg } from "./format.js";

const WIDTH = 1000;
const PAD = 48;
const BREACH_RING_MS = 15 * 60 * 1000;
const SCALE = ["#1f6f78", "#3a9d6e", "#c9a227", "#e07b24", "#e0413a"];
const RING = 6; // the breach ring's distance from its dot
const GAP = 3; // between a name and what it must not touch
// Where a name may go, in order of preference: [dx, dy] as directions from its dot.
const NEAR = [
  [0, 1], [0, -1], [1, 0], [-1, 0], [1, 1], [-1, 1], [1, -1], [-1, -1],
  [2, 1], [-2, 1], [2, -1], [-2, -1], [1, 2], [-1, 2], [1, -2], [-1, -2],
];  // prettier-ignore
const FAR = [12, 24, 36, 52, 70]; // extra distance, with a leader line

export class RegionMap {
  constructor(element, regions, { focus = null, labels = [], outline = [] } = {}) {
    this.element = element;
    this.focus = focus;
    this.nodes = new Map();
    this.breaches = new Map(); // region code -> time of the last breach alert
    // The map spans the seats and the outline (the coast lies beyond the seats).
    const points = [...regions.map((r) => r.seatLocation), ...outline.flat()];
    const lats = points.map((p) => p.lat);
    const lons = points.map((p) => p.lon);
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
    const rings = outline.map(
      (ring) => `M${ring.map((p) => this.project(p).map((v) => v.toFixed(1)).join(",")).join("L")}Z`,
    );
    element.replaceChildren(
      ...(rings.length ? [svg("path", { class: "outline", d: rings.join(" ") })] : []),
      ...labels.map((label) => this.seaLabel(label)),
      (this.itemsLayer = svg("g", { class: "work-items" })),
      (this.regionsLayer = svg("g", { class: "regions" })),
      (this.pulses = svg("g", { class: "pulses" })),
      (this.legend = svg("g", { class: "legend" })),
    );
    // Small cities first, so their labels sit above the regencies around them.
    const rank = (region) => (region.type === "KOTA" ? 1 : 0);
    const ordered = [...regions].sort((a, b) => rank(a) - rank(b));
    for (const region of ordered) this.addRegion(region);
    this.width = 0;
    this.update([]);
    new ResizeObserver(() => {
      if (Math.abs(this.element.getBoundingClientRect().width - this.width) > 8) this.layout();
    }).observe(element);
  }

  // A smaller map (a laptop) draws its names and dots larger, so that they stay readable; as
  // large as every name still finds a free place.
  layout() {
    this.width = this.element.getBoundingClientRect().width;
    const wanted = this.width > 0 ? Math.min(1.5, Math.max(1, 820 / this.width)) : 1;
    for (let zoom = wanted; ; zoom = Math.max(1, zoom - 0.1)) {
      this.zoom = zoom;
      this.element.style.setProperty("--zoom", zoom.toFixed(2));
      for (const node of this.nodes.values()) {
        node.size = labelSize(node.label);
        const radius = node.base * (1 + (zoom - 1) / 2);
        node.radius = radius;
        node.circle.setAttribute("r", radius.toFixed(1));
        node.ring.setAttribute("r", (radius + RING).toFixed(1));
      }
      this.drawLegend(this.most);
      this.placeLegend();
      if (this.placeLabels() < 1 || zoom === 1) return;
    }
  }

  // A sea's or a strait's name at a side or a corner of the map.
  seaLabel({ name, at }) {
    const [W, H, side] = [WIDTH, this.height, 20];
    const x = { EAST: W - side, WEST: side }[at.replace(/^(NORTH|SOUTH)(?=.)/, "")] ?? W / 2;
    const y = at.startsWith("NORTH") ? 22 : at.startsWith("SOUTH") ? H - 8 : H / 2;
    const anchor = x === W / 2 ? "middle" : x < W / 2 ? "start" : "end";
    return svg("text", { class: "sea", x, y, "text-anchor": anchor }, name);
  }

  addRegion(region) {
    const [x, y] = this.project(region.seatLocation);
    const kota = region.type === "KOTA";
    const circle = svg("circle", { class: "dot", cx: x, cy: y, r: 8 });
    const ring = svg("circle", { class: "breach-ring", cx: x, cy: y, r: 14 });
    const number = svg("text", { class: "count", x, y }, "0");
    const label = svg(
      "text",
      { class: `name${kota ? " kota" : ""}`, x, y },
      kota ? `Kota ${region.name}` : region.name,
    );
    const leader = svg("line", { class: "leader", x1: x, y1: y, x2: x, y2: y });
    const title = svg("title", {}, regionName(region));
    const group = svg(
      "g",
      {
        class: `region ${kota ? "kota" : "kabupaten"}`,
        dataset: { code: region.code },
      },
      title,
      leader,
      ring,
      circle,
      number,
      label,
    );
    if (this.focus && this.focus !== region.code) group.classList.add("dimmed");
    if (this.focus === region.code) group.classList.add("focus");
    this.regionsLayer.append(group);
    const parts = { group, circle, ring, number, label, leader, title };
    this.nodes.set(region.code, { region, x, y, kota, base: 8, radius: 8, ...parts });
  }

  // byRegion: the dashboard's [{regionCode, count, open}].
  update(byRegion) {
    this.byRegion = byRegion;
    const open = new Map(byRegion.map((r) => [r.regionCode, r.open]));
    const most = Math.max(1, ...open.values());
    for (const [code, node] of this.nodes) {
      const value = open.get(code) ?? 0;
      const share = value / most;
      node.base = (node.kota ? 6 : 8) + 14 * Math.sqrt(share);
      node.circle.style.fill = value === 0 ? "" : SCALE[Math.min(4, Math.floor(share * 5))];
      node.group.classList.toggle("zero", value === 0);
      node.number.textContent = value ? count(value) : "";
      node.group.dataset.open = String(value);
      node.title.textContent = `${regionName(node.region)}: ${count(value)} aduan terbuka`;
    }
    this.most = most;
    this.layout();
  }

  // Greedy placement, most crowded seats first: each name takes its first free place. Returns
  // how much the names still cover of one another (0 when all found a free place).
  placeLabels() {
    let uncovered = 0;
    const dots = [...this.nodes.values()].map((n) => ({ x: n.x, y: n.y, r: n.radius + RING }));
    const taken = [this.legendBox];
    const crowd = (node) =>
      dots.filter((d) => Math.hypot(d.x - node.x, d.y - node.y) < 90).length;
    const order = [...this.nodes.values()].sort((a, b) => crowd(b) - crowd(a));
    for (const node of order) {
      let best = null;
      for (const extra of [0, ...FAR]) {
        for (const [dx, dy] of NEAR) {
          const box = this.labelBox(node, dx, dy, extra);
          const cost = this.overlap(box, taken, dots);
          if (best === null || cost < best.cost) best = { box, cost, dx, dy, extra };
          if (cost < 0.01) break;
        }
        if (best.cost < 0.01) break;
      }
      taken.push(best.box);
      this.setLabel(node, best);
      uncovered += best.cost;
    }
    return uncovered;
  }

  // The box of `node`'s name placed in direction (dx, dy), `extra` farther than touching.
  labelBox(node, dx, dy, extra) {
    const { width, height } = node.size;
    const reach = node.radius + RING + GAP + extra;
    const norm = Math.hypot(dx, dy);
    const [cx, cy] = [node.x + (dx / norm) * reach, node.y + (dy / norm) * reach];
    const x = dx > 0 ? cx : dx < 0 ? cx - width : cx - width / 2;
    const y = dy > 0 ? cy : dy < 0 ? cy - height : cy - height / 2;
    return { x, y, width, height };
  }

  // How much a box covers of what is taken, the dots and the outside of the map.
  overlap(box, taken, dots) {
    let cost = 0;
    for (const other of taken) {
      const w = Math.min(box.x + box.width, other.x + other.width) - Math.max(box.x, other.x);
      const h = Math.min(box.y + box.height, other.y + other.height) - Math.max(box.y, other.y);
      if (w > -GAP && h > -GAP) cost += (w + GAP) * (h + GAP);
    }
    for (const dot of dots) {
      const nx = Math.max(box.x, Math.min(dot.x, box.x + box.width));
      const ny = Math.max(box.y, Math.min(dot.y, box.y + box.height));
      const inside = dot.r + GAP - Math.hypot(dot.x - nx, dot.y - ny);
      if (inside > 0) cost += inside * inside * 4;
    }
    const outside =
      Math.max(0, -box.x) +
      Math.max(0, box.x + box.width - WIDTH) +
      Math.max(0, 30 - box.y) +
      Math.max(0, box.y + box.height - (this.height - 30));
    return cost + outside * 1000;
  }

  setLabel(node, { box, dx, dy, extra }) {
    const { label, leader, size } = node;
    label.setAttribute("x", (box.x + box.width / 2).toFixed(1));
    label.setAttribute("y", (box.y - size.top).toFixed(1));
    node.group.dataset.label = `${dx},${dy},${extra}`;
    leader.classList.toggle("shown", extra > 0);
    if (extra > 0) {
      const reach = node.radius + 2;
      const norm = Math.hypot(dx, dy);
      leader.setAttribute("x1", (node.x + (dx / norm) * reach).toFixed(1));
      leader.setAttribute("y1", (node.y + (dy / norm) * reach).toFixed(1));
      const nx = Math.max(box.x, Math.min(node.x, box.x + box.width));
      const ny = Math.max(box.y, Math.min(node.y, box.y + box.height));
      leader.setAttribute("x2", nx.toFixed(1));
      leader.setAttribute("y2", ny.toFixed(1));
    }
  }

  drawLegend(most) {
    const steps = SCALE.map((colour, i) => [colour, Math.ceil((most * i) / 5)]);
    this.legend.replaceChildren(
      svg("text", { class: "legend-title", x: 0, y: 0 }, "Aduan terbuka per wilayah"),
      ...steps.map(([colour, from], i) =>
        svg(
          "g",
          { transform: `translate(${i * 46} 12)` },
          svg("rect", { width: 42, height: 10, rx: 2, fill: colour }),
          svg("text", { class: "legend-value", x: 0, y: 26 }, `≥ ${count(from)}`),
        ),
      ),
      svg(
        "g",
        { transform: "translate(0 50)" },
        svg("circle", { class: "breach-ring legend-ring", cx: 7, cy: 5, r: 7 }),
        svg("text", { class: "legend-value", x: 20, y: 9 }, "tenggat terlampaui < 15 menit lalu"),
      ),
      svg(
        "g",
        { transform: "translate(0 70)" },
        svg("rect", {
          class: "work-item",
          x: 2,
          y: 0,
          width: 9,
          height: 9,
          transform: "rotate(45 6.5 4.5)",
        }),
        svg("text", { class: "legend-value", x: 20, y: 9 }, "paket pekerjaan jalan"),
      ),
    );
  }

  // The legend goes to the corner of the sea where it covers the fewest seats.
  placeLegend() {
    const z = this.zoom;
    const local = this.legend.getBBox();
    const [width, height] = [z * local.width, z * local.height];
    const corners = [
      [30, 40],
      [WIDTH - width - 20, 40],
      [30, this.height - height - 36],
      [WIDTH - width - 20, this.height - height - 36],
    ].map(([x, y]) => ({ x, y, width, height }));
    const covered = (box) =>
      this.overlap(box, [], [...this.nodes.values()].map((n) => ({ x: n.x, y: n.y, r: 30 })));
    const best = corners.reduce((a, b) => (covered(b) < covered(a) ? b : a));
    const [x, y] = [best.x - z * local.x, best.y - z * local.y];
    this.legend.setAttribute("transform", `translate(${x} ${y}) scale(${z.toFixed(2)})`);
    this.legendBox = best;
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

  // A deadline breached at `at` (the deadline itself): a ring for 15 minutes after it.
  breach(code, at, { ripple = true } = {}) {
    if (!this.nodes.has(code) || !(Date.now() - at < BREACH_RING_MS)) return;
    this.breaches.set(code, Math.max(at, this.breaches.get(code) ?? 0));
    if (ripple) this.pulse(code, "alert");
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

// A name's size, and how far its top is above its baseline, in map units (centred text).
function labelSize(label) {
  const box = label.getBBox();
  const y = Number(label.getAttribute("y"));
  return { width: box.width, height: box.height, top: box.y - y };
}
