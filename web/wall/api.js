// What the wall asks Kilas for. Never a reporter, a contact, an external reference, a tracking
// number (it lets its holder act as the reporter) or a complaint's text: the wall is public.

const EVENT_FIELDS = `
  id cursor type fromStatus toStatus occurredAt recordedAt rating slaClock escalationLevel
  opd { slug shortName } fromOpd { shortName } region { code name type }
  complaint { id channel createdAt category { code name } }
`;

export const COMPLAINT_EVENTS = `
subscription WallEvents($filter: ComplaintEventFilter, $after: String) {
  complaintEvents(filter: $filter, after: $after) { ${EVENT_FIELDS} }
}`;

export const SLA_ALERTS = `
subscription WallAlerts($filter: SlaAlertFilter, $after: String) {
  slaAlerts(filter: $filter, after: $after) { ${EVENT_FIELDS} }
}`;

export const DASHBOARD = `
subscription WallDashboard($filter: DashboardFilter) {
  dashboard(filter: $filter) {
    generatedAt intakeToday breachesOpenNow
    byStatus { status count } byRegion { regionCode count open } byChannel { channel count }
  }
}`;

export const LEADERBOARD = `
subscription WallLeaderboard {
  leaderboardChanges(window: LAST_30_DAYS) {
    rank received resolved backlog responseSlaShare medianResponseHours averageRating breaches
    opd { slug shortName name }
  }
}`;

export const REFERENCE = `
query WallReference {
  regions { code name type seat seatLocation { lat lon } }
  province {
    name wallTitle wallProgrammeCode
    mapLabels { name at }
    outline { lat lon }
  }
}`;

export const OPD = `
query WallOpd($slug: String!) { opd(slug: $slug) { id slug shortName name } }`;

// The latest event of the complaints changed last: the ticker's first lines, and the cursor the
// live subscriptions continue from.
export const RECENT = `
query WallRecent($filter: ComplaintFilter) {
  complaints(filter: $filter, orderBy: UPDATED_AT_DESC, first: 40) {
    nodes { lastEvent { ${EVENT_FIELDS} } }
  }
}`;

// The SLA alerts still open when the wall opens, newest first: the alerts panel's first lines
// (the live slaAlerts subscription brings the rest).
export const OPEN_ALERTS = `
query WallOpenAlerts($filter: SlaAlertFilter, $first: Int) {
  openSlaAlerts(filter: $filter, first: $first) { ${EVENT_FIELDS} }
}`;

export const PROGRAMME = `
query WallProgramme($code: String!) {
  programme(code: $code) {
    code name fiscalYear status unit target achievement budgetIdr realisationIdr
    absorptionPct achievementPct predecessor { name }
    workItems {
      id name roadSegment progressPct status lengthKm plannedEnd
      region { code name type } location { lat lon } linkedComplaints { id }
    }
  }
}`;

export class HttpApi {
  constructor(url, authorization) {
    this.url = url;
    this.authorization = authorization;
  }

  // The data of a query; throws with the first error's message.
  async query(query, variables = {}) {
    const headers = { "content-type": "application/json" };
    if (this.authorization) headers.authorization = this.authorization;
    const response = await fetch(this.url, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json().catch(() => ({}));
    if (body.errors?.length || !response.ok || !body.data) {
      // The server's message is English and for the console; the page says it in Indonesian.
      const error = new Error(body.errors?.[0]?.message ?? `HTTP ${response.status}`);
      error.refused = response.status === 401;
      throw error;
    }
    return body.data;
  }
}
