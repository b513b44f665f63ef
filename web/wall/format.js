// Words and numbers as the command center reads them: Indonesian, times in WIB.

export const STATUS = {
  RECEIVED: "Diterima",
  ASSIGNED: "Didisposisi",
  IN_PROGRESS: "Ditindaklanjuti",
  RESOLVED: "Selesai",
  CLOSED: "Ditutup",
  REJECTED: "Ditolak",
};

export const EVENT = {
  SUBMITTED: "Aduan masuk",
  ASSIGNED: "Disposisi",
  REASSIGNED: "Disposisi ulang",
  FOLLOWED_UP: "Tindak lanjut",
  RESOLVED: "Diselesaikan",
  REOPENED: "Dibuka kembali",
  CONFIRMED: "Dikonfirmasi pelapor",
  CLOSED: "Ditutup",
  REJECTED: "Ditolak",
  WORK_ITEM_LINKED: "Masuk paket pekerjaan jalan",
  SLA_AT_RISK: "SLA hampir habis",
  SLA_BREACHED: "SLA terlampaui",
  ESCALATED: "Eskalasi",
  AUTO_CLOSED: "Ditutup otomatis",
};

export const CHANNEL = {
  X: "X",
  INSTAGRAM: "Instagram",
  FACEBOOK: "Facebook",
  WHATSAPP: "WhatsApp",
  SMS: "SMS",
  WEB: "Situs web",
  APP: "Aplikasi",
  HOTLINE: "Hotline",
  WALK_IN: "Datang langsung",
  NATIONAL: "SP4N-LAPOR!",
};

export const CLOCK = { RESPONSE: "tanggapan", RESOLUTION: "penyelesaian" };

export const ESCALATION = {
  1: "ke Kepala OPD",
  2: "ke Pusat Komando / Inspektorat",
  3: "ke Kantor Gubernur",
};

export const ALERT_TYPES = new Set(["SLA_AT_RISK", "SLA_BREACHED", "ESCALATED"]);

const ZONE = "Asia/Jakarta";
const time = new Intl.DateTimeFormat("id-ID", {
  timeZone: ZONE,
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});
const clock = new Intl.DateTimeFormat("id-ID", {
  timeZone: ZONE,
  hour: "2-digit",
  minute: "2-digit",
  hour12: false,
});
const day = new Intl.DateTimeFormat("id-ID", {
  timeZone: ZONE,
  weekday: "long",
  day: "numeric",
  month: "long",
  year: "numeric",
});
const number = new Intl.NumberFormat("id-ID");
const decimal = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 1 });

const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE });
const shortDay = new Intl.DateTimeFormat("id-ID", {
  timeZone: ZONE,
  day: "numeric",
  month: "short",
});

// "14.03.22" today (WIB), "26 Nov 05.08" before.
export function wibTime(value, now = new Date()) {
  const moment = new Date(value);
  if (dayKey.format(moment) === dayKey.format(now)) return time.format(moment);
  return `${shortDay.format(moment)} ${clock.format(moment)}`;
}
export const wibClock = (value) => `${clock.format(value)} WIB`;
export const wibDay = (value) => day.format(value);
export const count = (value) => number.format(value ?? 0);
export const oneDecimal = (value) => decimal.format(value ?? 0);

export function percent(value) {
  return value == null ? "–" : `${decimal.format(value)}%`;
}

// Rupiah in billions (miliar), as budgets are spoken of.
export function rupiah(value) {
  const amount = Number(value);
  if (amount >= 1e12) return `Rp ${decimal.format(amount / 1e12)} triliun`;
  if (amount >= 1e9) return `Rp ${decimal.format(amount / 1e9)} miliar`;
  if (amount >= 1e6) return `Rp ${decimal.format(amount / 1e6)} juta`;
  return `Rp ${number.format(amount)}`;
}

// How long ago, compactly: "baru", "12 mnt", "5 jam", "3 hari".
export function age(since, now = Date.now()) {
  const seconds = Math.max(0, (now - new Date(since).getTime()) / 1000);
  if (seconds < 60) return "baru";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} mnt`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} jam`;
  return `${Math.floor(seconds / 86400)} hari`;
}

export function regionName(region) {
  if (!region) return "";
  return region.type === "KOTA" ? `Kota ${region.name}` : `Kab. ${region.name}`;
}

export function eventLabel(event) {
  const label = EVENT[event.type] ?? event.type;
  if (event.type === "SLA_AT_RISK" || event.type === "SLA_BREACHED") {
    return `${label} (${CLOCK[event.slaClock] ?? "SLA"})`;
  }
  if (event.type === "ESCALATED") {
    return `${label} ${ESCALATION[event.escalationLevel] ?? ""}`.trim();
  }
  if (event.type === "CONFIRMED" && event.rating) {
    return `${label} ★${event.rating}`;
  }
  return label;
}

// Build an element: h("div", {class: "x", dataset: {a: 1}}, child, "text", …).
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    // Styles through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style") Object.assign(element.style, value);
    else if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

// The same for SVG elements.
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style") Object.assign(element.style, value);
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}
