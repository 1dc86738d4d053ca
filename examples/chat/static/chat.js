// @ts-check
"use strict";
// The chat page. It keeps the position of the last room event it got and a session secret of its
// own; after any close that is not final it reconnects by itself (to whichever worker answers) and
// resumes from that position under the same nickname. Final: app close codes 4000-4999 (4409: the
// nickname is someone else's now), 1008 (policy), and a handshake that never opened while this
// page's own server answers (a refusal, such as an Origin check).
//
// What it sends and receives is typed (JSDoc, checked by tsc: examples/chat/web/README.md) with
// the types protocol.d.ts declares, which are generated from examples/chat/protocol.py.

/** @typedef {import("./protocol").ServerMessageV2} ServerMessageV2 */
/** @typedef {import("./protocol").ServerMessageV1} ServerMessageV1 */
/** @typedef {ServerMessageV1 | ServerMessageV2} ServerMessage what the server may send, in either subprotocol */
/** @typedef {import("./protocol").Join} Join */
/** @typedef {import("./protocol").Say} Say */
/** @typedef {import("./protocol").Ack} Ack */
/** @typedef {import("./protocol").Stats} Stats */
/** @typedef {{ seq: bigint, epoch: string, token: string }} Position */
/** @typedef {[tag: string, text: string, cls?: string]} Part an element of a line: its tag, text and class */
/** @typedef {{ nick: HTMLInputElement, text: HTMLInputElement }} Inputs the elements whose value is read */

/**
 * The page's element with this id (every id used here is in the page).
 * @template {string} Id
 * @param {Id} id
 * @returns {Id extends keyof Inputs ? Inputs[Id] : HTMLElement}
 */
const $ = (id) => /** @type {any} */ (document.getElementById(id));
const FIRST_DELAY = 500;   // ms before the first attempt to reconnect; doubles up to
const LAST_DELAY = 20000;  // this, each with +-20% jitter so that pages do not all come back at once
/** @type {WebSocket | null} */
let socket = null;
/** @type {string | null} */
let me = null;        // the nickname the room gave this page
let wanted = "";      // the nickname typed in
/** @type {Position | null} */
let last = null;      // the position of the last room event shown: {seq, epoch, token}
let received = 0;     // events received on this connection
let acked = 0;        // the last count acknowledged to the server
let ackEvery = 16;    // as the welcome says
let attempt = 0;      // attempts to reconnect since the last welcome
/** @type {number | null} */
let retry = null;     // the timer of the next attempt
let away = false;     // disconnected and reconnecting: one line says so
let lostShown = false;  // "some messages were lost" shown on coming back: the gap after it is that one
const session = sessionSecret();

// 128 random bits, kept for this tab only (sessionStorage) and sent only in the join, to this
// page's own server: it lets this page take its nickname back after a reconnect.
/** @returns {string} */
function sessionSecret() {
  /** @type {string | null} */
  let secret = null;
  try { secret = sessionStorage.getItem("chat-session"); } catch (e) { /* storage disabled */ }
  if (!secret || !/^[0-9a-f]{32}$/.test(secret)) {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    secret = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    try { sessionStorage.setItem("chat-session", secret); } catch (e) { /* kept in memory only */ }
  }
  return secret;
}

// A position token is "<seq>.<epoch>"; positions of different epochs are not comparable.
/**
 * @param {unknown} token
 * @returns {Position | null}
 */
function position(token) {
  if (typeof token !== "string") return null;
  const dot = token.indexOf(".");
  if (dot < 1) return null;
  try {
    return { seq: BigInt(token.slice(0, dot)), epoch: token.slice(dot + 1), token };
  } catch (e) {
    return null;
  }
}

/**
 * @param {string} cls
 * @param {Part[]} parts
 */
function line(cls, parts) {
  const li = document.createElement("li");
  li.className = cls;
  for (const [tag, text, partCls] of parts) {
    const el = document.createElement(tag);
    el.textContent = text;
    if (partCls) el.className = partCls;
    li.append(el);
  }
  $("log").append(li);
  $("log").scrollTop = $("log").scrollHeight;
}

/** @param {{ users?: string[], stats?: Stats }} event */
function showRoom(event) {
  if (event.users) {
    $("users").classList.remove("stale");
    $("users").replaceChildren(...event.users.map((nick) => {
      const li = document.createElement("li");
      li.textContent = nick;
      if (nick === me) li.className = "me";
      return li;
    }));
  }
  if (event.stats) showStats(event.stats);
}

/** @param {Stats} stats */
function showStats({ users }) {
  $("stats").textContent = `${users} user${users === 1 ? "" : "s"} online`;
}

function fetchStats() {
  fetch("/stats", { cache: "no-store" }).then((response) => response.json()).then(showStats, () => { $("stats").textContent = ""; });
}

/** @param {ServerMessage} event */
function handle(event) {
  if (event.type === "welcome") {
    me = event.nick;
    ackEvery = event.ack;
    attempt = 0;
    away = false;
    last = position(event.pos) || last;
    $("join").hidden = true;
    $("chat").hidden = false;
    $("say").hidden = false;
    $("text").focus();
    lostShown = event.resumed && event.recovered === false;
    if (lostShown) {
      line("error gap reconnected", [["span", "reconnected: some messages were lost"]]);
    } else if (!event.resumed) {
      line("system", [["span", `you joined as ${me}`]]);
    }  // else: "resumed" says how many messages were missed, once they are shown
    showRoom(event);
    return;
  }
  if (event.type === "resumed") {
    const n = event.missed;
    line("system reconnected", [["span", n === 0 ? "reconnected: no messages missed"
      : `reconnected: ${n} message${n === 1 ? "" : "s"} you missed`]]);
    return;
  }
  if (event.type === "error") {
    line("error", [["span", `error: ${event.error}`]]);
    return;
  }
  const at = position(event.pos);
  if (event.type === "gap") {
    last = at || last;  // the stream goes on after the gap's position, whatever it was before
    if (!lostShown) {
      line("error gap", [["span", event.missed === null ? "some messages were lost" : `${event.missed} messages missed`]]);
    }
    lostShown = false;
    showRoom(event);
    return;
  }
  if (at && last && at.epoch === last.epoch && at.seq <= last.seq) return;  // had it already
  if (at) last = at;
  lostShown = false;
  if (event.type === "join" && event.nick !== me) {
    line("system", [["span", `${event.nick} joined`]]);
  } else if (event.type === "leave") {
    const who = event.nick === me ? "you" : event.nick;
    line("system", [["span", `${who} left${event.reason === "left" ? "" : ` (${event.reason})`}`]]);
  } else if (event.type === "message") {
    /** @type {Part[]} */
    const parts = [];
    if ("ts" in event && event.ts) parts.push(["time", new Date(event.ts * 1000).toLocaleTimeString()]);
    parts.push(["span", event.nick, "nick"], ["span", event.text]);
    line("message", parts);
  }
  showRoom(event);
}

function connect() {
  retry = null;
  const s = socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`, ["chat.v2", "chat.v1"]);
  let opened = false;
  received = acked = 0;
  s.onopen = () => {
    opened = true;
    $("protocol").textContent = s.protocol || "none";
    /** @type {Join} */
    const join = { type: "join", nick: me || wanted, session };
    if (last) join.since = last.token;
    s.send(JSON.stringify(join));
  };
  s.onmessage = (message) => {
    if (socket !== s) return;
    received += 1;
    handle(/** @type {ServerMessage} */ (JSON.parse(message.data)));
    if (received - acked >= ackEvery) {  // the server sends more only to a page that keeps up
      acked = received;
      /** @type {Ack} */
      const ack = { type: "ack", received };
      s.send(JSON.stringify(ack));
    }
  };
  s.onclose = (close) => {
    if (socket !== s) return;
    socket = null;
    $("protocol").textContent = "not connected";
    $("say").hidden = true;
    if ((close.code >= 4000 && close.code <= 4999) || close.code === 1008) {
      stop(close, "");
    } else if (!opened) {
      // A handshake that never opened: a refusal if this page's own server answers, else the
      // network or the server is down for now.
      fetch("/stats", { cache: "no-store" }).then(
        (response) => response.ok ? stop(close, "refused by the server") : reconnectLater(close),
        () => reconnectLater(close),
      );
    } else {
      reconnectLater(close);
    }
  };
}

/** @param {CloseEvent} close */
function reconnectLater(close) {
  if (!away) {
    away = true;
    line("system away", [["span", `disconnected (${close.code}) — reconnecting…`]]);
    $("users").classList.add("stale");
  }
  const delay = Math.min(LAST_DELAY, FIRST_DELAY * 2 ** attempt);
  attempt += 1;
  retry = setTimeout(connect, delay * (0.8 + 0.4 * Math.random()));
  fetchStats();
}

/**
 * @param {CloseEvent} close
 * @param {string} why
 */
function stop(close, why) {
  const reason = why || close.reason;
  line("error", [["span", `disconnected (${close.code}${reason ? ": " + reason : ""})`]]);
  away = false;
  attempt = 0;
  me = null;
  $("users").replaceChildren();
  $("chat").hidden = false;
  $("say").hidden = true;
  $("join").hidden = false;  // join again, under the same or another nickname
  fetchStats();
}

$("join").addEventListener("submit", (e) => {
  e.preventDefault();
  if (socket || retry) return;  // already joining, joined or reconnecting
  wanted = $("nick").value.trim();
  me = null;
  connect();
});

$("say").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!socket || socket.readyState !== WebSocket.OPEN) return;  // reconnecting: the text stays
  /** @type {Say} */
  const say = { type: "message", text: $("text").value };
  socket.send(JSON.stringify(say));
  $("text").value = "";
});
fetchStats();
