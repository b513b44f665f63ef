// The command center's wall: reference data over HTTP once, then everything live over one
// graphql-transport-ws connection. Each feed keeps the cursor of the last event it showed and
// resumes after it when the connection comes back, so nothing is missed and nothing doubles.
//
// URL: /wall?opd=<slug>&region=<code> narrows the wall to one unit's office;
//      /wall#key=kls_… connects with a read-only API key (the fragment never reaches a server log).

import * as api from "./api.js";
import { Feed, cursorAfter } from "./feed.js";
import { ALERT_TYPES, regionName, wibClock, wibDay } from "./format.js";
import { GraphQLSocket, socketUrl } from "./gqlws.js";
import { RegionMap } from "./map.js";
import { Counts, renderLeaderboard, renderProgramme } from "./panels.js";

const ALERT_LINES = 25;
const $ = (selector) => document.querySelector(selector);

const params = new URLSearchParams(location.search);
const fragment = new URLSearchParams(location.hash.slice(1));
const key = fragment.get("key");
const authorization = key ? `Bearer ${key}` : null;
const endpoint = new URL("graphql", location.href).toString();
const http = new api.HttpApi(endpoint, authorization);

const wall = {
  opd: null, // {id, slug, shortName, name} when ?opd= names a known OPD
  region: null, // a region when ?region= names one
  eventsCursor: null,
  alertsCursor: null,
  seededUpTo: null, // events up to this cursor were there before the wall opened
  map: null,
  programme: null,
  socket: null,
};

const ticker = new Feed($("#ticker"), { limit: 40, empty: "Menunggu aduan…" });
const alerts = new Feed($("#alerts"), {
  limit: ALERT_LINES,
  empty: "Tidak ada peringatan SLA yang terbuka.",
  order: "time",
});
const counts = new Counts($("#counts"), $("#channels"));

// A message for the operator, in Indonesian; it goes away after 30 s unless `lasting`.
function problem(message, { lasting = false } = {}) {
  const banner = $("#problem");
  banner.textContent = message;
  banner.hidden = false;
  clearTimeout(problem.timer);
  if (!lasting) problem.timer = setTimeout(() => (banner.hidden = true), 30000);
}

// The server refused the wall's key: retrying cannot help, so the wall stops and says so.
class KeyRefused extends Error {}

function refuse(reason) {
  wall.socket?.refuse(reason);
  showConnection({ state: "refused", reason });
}

// Retry a request with backoff until it answers (the server may still be starting); a refused
// key ends it.
async function patiently(request) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (error.refused) {
        console.warn("Kilas wall: key refused", error.message);
        refuse("kunci akses ditolak");
        throw new KeyRefused(error.message);
      }
      if (attempt === 0) console.warn("Kilas wall: retrying", error.message);
      await new Promise((resolve) => setTimeout(resolve, Math.min(15000, 1000 * 2 ** attempt)));
    }
  }
}

async function resolveFilters(regions) {
  const regionCode = params.get("region");
  if (regionCode) {
    wall.region = regions.find((r) => r.code === regionCode) ?? null;
    if (!wall.region) {
      problem(`Wilayah "${regionCode}" tidak dikenal; menampilkan seluruh provinsi.`);
    }
  }
  const slug = params.get("opd");
  if (slug) {
    wall.opd = (await patiently(() => http.query(api.OPD, { slug }))).opd;
    if (!wall.opd) problem(`OPD "${slug}" tidak dikenal; menampilkan semua OPD.`);
  }
  const scope = [wall.opd?.shortName, wall.region && regionName(wall.region)].filter(Boolean);
  $("#scope").textContent = scope.length ? scope.join(" · ") : `Seluruh ${wall.province.name}`;
  document.body.classList.toggle("scoped", scope.length > 0);
}

function filter() {
  const value = {};
  if (wall.opd) value.opdId = wall.opd.id;
  if (wall.region) value.regionCode = wall.region.code;
  return Object.keys(value).length ? value : null;
}

// The latest changes before the wall opened, and the cursor to continue from.
async function loadRecent() {
  const data = await patiently(() => http.query(api.RECENT, { filter: filter() }));
  const events = data.complaints.nodes.map((n) => n.lastEvent).filter(Boolean);
  events.sort((a, b) => (cursorAfter(a.cursor, b.cursor) ? 1 : -1));
  for (const event of events) ticker.add(event, { fresh: false });
  // With nothing to show yet, start from the log's beginning: a replay of nothing, and a cursor
  // to resume from even if the connection drops before the first event.
  wall.eventsCursor = wall.seededUpTo = events.length ? events[events.length - 1].cursor : "0";
}

// The SLA alerts still open, read after the ticker's first lines: every alert up to the
// ticker's cursor is in this answer if it is still open, and slaAlerts replays those after it
// (one read by both shows once).
async function loadOpenAlerts() {
  const data = await patiently(() =>
    http.query(api.OPEN_ALERTS, { filter: filter(), first: ALERT_LINES }),
  );
  for (const event of data.openSlaAlerts) showAlert(event, { fresh: false });
  wall.alertsCursor = wall.eventsCursor;
}

// A ring on the map means a deadline was just breached: by the breach's own time (the
// deadline), not by when the wall heard of it.
function showAlert(event, { fresh }) {
  if (!alerts.add(event, { fresh })) return;
  if (event.type === "SLA_BREACHED") {
    wall.map?.breach(event.region?.code, Date.parse(event.occurredAt), { ripple: fresh });
  }
}

async function loadProgramme() {
  try {
    const code = wall.province.wallProgrammeCode;
    if (!code) return;
    const data = await http.query(api.PROGRAMME, { code });
    wall.programme = data.programme;
    renderProgramme($("#programme"), data.programme, { region: wall.region?.code });
    if (data.programme) {
      $("#programme-title").textContent = `${data.programme.name} ${data.programme.fiscalYear}`;
      wall.map?.workItems(data.programme.workItems);
    }
  } catch (error) {
    console.warn("Kilas wall: programme not loaded", error.message);
    if (error.refused) refuse("kunci akses ditolak");
  }
}

let programmeTimer;
function refreshProgrammeSoon() {
  clearTimeout(programmeTimer);
  programmeTimer = setTimeout(loadProgramme, 2000);
}

function onEvent(event) {
  if (!cursorAfter(event.cursor, wall.eventsCursor)) return;
  wall.eventsCursor = event.cursor;
  if (ticker.add(event)) {
    wall.map?.pulse(event.region?.code, ALERT_TYPES.has(event.type) ? "alert" : "event");
    if (event.type === "WORK_ITEM_LINKED") refreshProgrammeSoon();
  }
}

function onAlert(event) {
  if (!cursorAfter(event.cursor, wall.alertsCursor)) return;
  wall.alertsCursor = event.cursor;
  showAlert(event, { fresh: cursorAfter(event.cursor, wall.seededUpTo) });
}

// What a panel is called in the operator's words, for the messages below.
const FEED_NAMES = {
  complaintEvents: "aduan terkini",
  slaAlerts: "peringatan SLA",
  dashboard: "hitungan aduan",
  leaderboardChanges: "papan peringkat",
}

// A sink for one subscription: data to `handle`, problems shown, ended ones subscribed again.
function sink(socket, field, handle) {
  return {
    next(payload) {
      if (payload.errors?.length) {
        console.warn(`Kilas wall: ${field}`, payload.errors);
        problem(`Sebagian data ${FEED_NAMES[field]} ditolak server.`);
      }
      if (payload.data?.[field]) handle(payload.data[field]);
    },
    error(errors, id) {
      const first = Array.isArray(errors) ? errors[0] : errors;
      // Fell behind: the server says where to resume, and our cursor is already there.
      const resume = first?.extensions?.code === "RESUME_REQUIRED";
      if (!resume) {
        console.warn(`Kilas wall: ${field}`, errors);
        problem(`Langganan ${FEED_NAMES[field]} ditolak server; dicoba lagi dalam 5 detik.`);
      }
      socket.resubscribe(id, resume ? 0 : 5000);
    },
    complete(id) {
      socket.resubscribe(id, 1000);
    },
  };
}

function showConnection({ state, retryAt, reason }) {
  const element = $("#connection");
  element.dataset.state = state;
  element.title = reason ?? "";
  showConnection.retryAt = state === "closed" ? retryAt : null;
  if (state === "refused") {
    problem(
      "Kunci akses layar ini ditolak server (salah, dicabut, atau kedaluwarsa). " +
        "Minta kunci baru, pasang pada alamat layar (#key=…), lalu muat ulang halaman.",
      { lasting: true },
    );
  }
  renderConnection();
}

function renderConnection() {
  const element = $("#connection");
  const text = element.querySelector(".text");
  const state = element.dataset.state;
  if (state === "open") text.textContent = "Tersambung · langsung";
  else if (state === "connecting") text.textContent = "Menyambung…";
  else if (state === "refused") text.textContent = "Kunci ditolak";
  else if (showConnection.retryAt == null) text.textContent = "Terputus — menunggu jaringan";
  else {
    const seconds = Math.max(0, Math.ceil((showConnection.retryAt - Date.now()) / 1000));
    text.textContent = `Terputus — menyambung ulang dalam ${seconds} dtk`;
  }
}

function startLive() {
  const socket = new GraphQLSocket(socketUrl(endpoint), {
    connectionPayload: () => (authorization ? { authorization } : {}),
    onState: showConnection,
  });
  const scoped = filter();
  socket.subscribe(
    api.COMPLAINT_EVENTS,
    () => ({ filter: scoped, after: wall.eventsCursor }),
    sink(socket, "complaintEvents", onEvent),
  );
  socket.subscribe(
    api.SLA_ALERTS,
    () => ({ filter: scoped, after: wall.alertsCursor }),
    sink(socket, "slaAlerts", onAlert),
  );
  socket.subscribe(
    api.DASHBOARD,
    () => ({ filter: scoped }),
    sink(socket, "dashboard", (dashboard) => {
      counts.update(dashboard);
      wall.map?.update(dashboard.byRegion);
      $("#updated").textContent = `Diperbarui ${wibClock(new Date(dashboard.generatedAt))}`;
    }),
  );
  socket.subscribe(
    api.LEADERBOARD,
    () => ({}),
    sink(socket, "leaderboardChanges", (entries) =>
      renderLeaderboard($("#leaderboard"), entries, { highlight: wall.opd?.slug }),
    ),
  );
  // The browser knows before any ping would tell.
  window.addEventListener("offline", () => socket.drop("tanpa jaringan"));
  window.addEventListener("online", () => socket.retryNow());
  wall.socket = socket;
  socket.start();
  return socket;
}

function everySecond() {
  const now = new Date();
  $("#clock").textContent = wibClock(now);
  $("#date").textContent = wibDay(now);
  renderConnection();
  if (now.getSeconds() % 30 === 0) {
    ticker.refreshAges();
    alerts.refreshAges();
    wall.map?.tick();
  }
}

// The province this Kilas serves, from its pack: the title, the name, the map's description.
function showProvince(province, regions) {
  wall.province = province;
  $("#wall-title").textContent = province.wallTitle;
  $("#province-name").textContent = `Provinsi ${province.name}`;
  document.title = `Kilas · ${province.wallTitle} ${province.name}`;
  $("#map").setAttribute(
    "aria-label",
    `Peta ${regions.length} kabupaten dan kota ${province.name}`,
  );
}

async function main() {
  everySecond();
  setInterval(everySecond, 1000);
  showConnection({ state: "connecting" });
  const { regions, province } = await patiently(() => http.query(api.REFERENCE));
  showProvince(province, regions);
  await resolveFilters(regions);
  wall.map = new RegionMap($("#map"), regions, {
    focus: wall.region?.code,
    labels: province.mapLabels,
    outline: province.outline,
  });
  await loadRecent();
  await loadOpenAlerts();
  window.kilasWall = { socket: startLive(), state: wall };
  await loadProgramme();
  setInterval(loadProgramme, 60000);
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  if (error instanceof KeyRefused) return; // said already, in the banner and the indicator
  console.error("Kilas wall failed to start", error);
  problem("Layar gagal dimuat. Muat ulang halaman; bila terulang, hubungi admin Kilas.", {
    lasting: true,
  });
});
