// A small graphql-transport-ws client: one WebSocket for every subscription of the page,
// reconnected with exponential backoff and jitter whenever it drops. On each (re)connection every
// active subscription is sent again with fresh variables, so a caller that passes its last cursor
// as `after` resumes where it stopped.
//
// Protocol: https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md

const PROTOCOL = "graphql-transport-ws";
// Kilas closes with 4403 a socket whose credential is wrong, revoked or expired.
const FORBIDDEN = 4403;

export class GraphQLSocket {
  // url: ws(s)://…/graphql; connectionPayload: () => object sent with connection_init;
  // onState: ({state, retryAt, attempt, reason}) => void, state one of connecting, open, closed,
// refused (the server refused the credential: final, since trying again cannot help).
  constructor(url, { connectionPayload = () => ({}), onState = () => {}, options = {} } = {}) {
    this.url = url;
    this.connectionPayload = connectionPayload;
    this.onState = onState;
    this.options = {
      baseDelay: 1000, // first retry after about a second
      maxDelay: 15000,
      pingInterval: 10000, // the server does not ping; a silent socket is found by our pings
      pongTimeout: 5000,
      ackTimeout: 10000,
      ...options,
    };
    this.subscriptions = new Map(); // id -> {query, variables(), sink}
    this.nextId = 1;
    this.socket = null;
    this.acknowledged = false;
    this.attempt = 0;
    this.timers = {};
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.clearTimers();
    if (this.socket) this.socket.close(1000, "Normal Closure");
  }

  // variables: a function, called at every (re)subscription. sink: {next, error, complete}.
  subscribe(query, variables, sink) {
    const id = String(this.nextId++);
    this.subscriptions.set(id, { query, variables, sink });
    if (this.acknowledged) this.send({ id, type: "subscribe", payload: this.payload(id) });
    return () => {
      if (this.subscriptions.delete(id) && this.acknowledged) {
        this.send({ id, type: "complete" });
      }
    };
  }

  // The server ended one subscription with an error: subscribe it again after `delay` ms.
  resubscribe(id, delay) {
    setTimeout(() => {
      if (this.subscriptions.has(id) && this.acknowledged) {
        this.send({ id, type: "subscribe", payload: this.payload(id) });
      }
    }, delay);
  }

  payload(id) {
    const { query, variables } = this.subscriptions.get(id);
    return { query, variables: variables() };
  }

  connect() {
    this.clearTimers();
    this.acknowledged = false;
    if (navigator.onLine === false) {
      // No attempt while the browser has no network: it would only fail. `online` calls retryNow.
      const reason = "tanpa jaringan";
      this.setState({ state: "closed", retryAt: null, attempt: this.attempt, reason });
      return;
    }
    this.setState({ state: "connecting", attempt: this.attempt });
    let socket;
    try {
      socket = new WebSocket(this.url, PROTOCOL);
    } catch (error) {
      this.scheduleReconnect(String(error));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.send({ type: "connection_init", payload: this.connectionPayload() });
      const { ackTimeout } = this.options;
      this.timers.ack = setTimeout(() => this.drop("tanpa connection_ack"), ackTimeout);
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.acknowledged = false;
      if (event.code === FORBIDDEN) this.refuse(closeReason(event));
      else if (!this.stopped) this.scheduleReconnect(closeReason(event));
    };
    // An error is always followed by a close, which reconnects.
    socket.onerror = () => {};
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      this.drop("pesan tak terbaca");
      return;
    }
    this.lastHeard = Date.now();
    clearTimeout(this.timers.pong);
    switch (message.type) {
      case "connection_ack":
        clearTimeout(this.timers.ack);
        this.acknowledged = true;
        this.attempt = 0;
        this.setState({ state: "open" });
        for (const id of this.subscriptions.keys()) {
          this.send({ id, type: "subscribe", payload: this.payload(id) });
        }
        this.schedulePing();
        break;
      case "ping":
        this.send({ type: "pong" });
        break;
      case "pong":
        break;
      case "next":
        this.subscriptions.get(message.id)?.sink.next?.(message.payload);
        break;
      case "error":
        this.subscriptions.get(message.id)?.sink.error?.(message.payload, message.id);
        break;
      case "complete":
        this.subscriptions.get(message.id)?.sink.complete?.(message.id);
        break;
      default:
        this.drop(`pesan tak dikenal ${message.type}`);
    }
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  // Pings find a connection that died without a close (a cable pulled, a laptop asleep).
  schedulePing() {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => {
      if (!this.acknowledged) return;
      this.send({ type: "ping" });
      this.timers.pong = setTimeout(() => this.drop("tanpa pong"), this.options.pongTimeout);
      this.schedulePing();
    }, this.options.pingInterval);
  }

  drop(reason) {
    const socket = this.socket;
    this.socket = null;
    this.acknowledged = false;
    if (socket) {
      socket.onclose = null;
      socket.close(4000, reason.slice(0, 100));
    }
    if (!this.stopped) this.scheduleReconnect(reason);
  }

  scheduleReconnect(reason) {
    this.clearTimers();
    const { baseDelay, maxDelay } = this.options;
    const ceiling = Math.min(maxDelay, baseDelay * 2 ** this.attempt);
    // "Full jitter" on the upper half: walls that lost the server together do not return together.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.setState({ state: "closed", retryAt, attempt: this.attempt, reason });
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }

  // The credential was refused (revoked, expired, mistyped): stop for good and say so.
  refuse(reason) {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.acknowledged = false;
    if (socket) {
      socket.onclose = null;
      socket.close(1000, "Normal Closure");
    }
    this.setState({ state: "refused", retryAt: null, attempt: this.attempt, reason });
  }

  // Reconnect now (the browser says the network is back).
  retryNow() {
    if (!this.stopped && !this.socket && this.state?.state !== "refused") {
      this.connect();
    }
  }

  clearTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
    this.timers = {};
  }

  setState(state) {
    this.state = state;
    this.onState(state);
  }
}

// Why the socket closed, in Indonesian (a tooltip of the indicator; the server's reason is
// English and goes to the console).
function closeReason(event) {
  if (event.reason) console.info(`Kilas wall: socket closed ${event.code} ${event.reason}`);
  if (event.code === FORBIDDEN) return "kunci akses ditolak";
  if (event.code === 4401) return "belum diizinkan";
  return `kode penutupan ${event.code}`;
}

// The GraphQL endpoint next to this page, as ws:// or wss://.
export function socketUrl(httpUrl) {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
