// Chat sessions for k6 against the chat demo (examples/chat/app.py), driven by bench/load.py:
// each iteration joins the room under its own nickname, says MESSAGES things PAUSE_MS apart (1 s),
// acknowledges the room's events as the welcome asks, waits until the room has relayed all of
// its own messages back to it, and leaves. Virtual users ramp up to VUS over RAMP, stay for HOLD.
//
//   k6 run -e URL=ws://127.0.0.1:8000/ws -e SUMMARY=out.json bench/k6/chat.js
//
// Reported (see bench/load.py): load_sessions, load_messages (own messages relayed back),
// load_events (every event received), load_errors, load_latency (from saying to seeing it relayed,
// in ms), load_gaps (events the room says this client missed).
import { WebSocket } from 'k6/experimental/websockets';
import { Counter, Trend } from 'k6/metrics';

const URL = __ENV.URL;
const VUS = parseInt(__ENV.VUS || '100', 10);
const RAMP = __ENV.RAMP || '10s';
const HOLD = __ENV.HOLD || '20s';
const MESSAGES = parseInt(__ENV.MESSAGES || '10', 10);
const PAUSE_MS = parseInt(__ENV.PAUSE_MS || '1000', 10);
const SESSION_TIMEOUT_MS = parseInt(__ENV.SESSION_TIMEOUT_MS || '20000', 10);

const latency = new Trend('load_latency', true);
const messages = new Counter('load_messages');
const events = new Counter('load_events');
const sessions = new Counter('load_sessions');
const errors = new Counter('load_errors');
const gaps = new Counter('load_gaps');

export const options = {
  scenarios: {
    chat: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: RAMP, target: VUS },
        { duration: HOLD, target: VUS },
        { duration: '2s', target: 0 },
      ],
      gracefulRampDown: '10s',
      gracefulStop: '20s',
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max', 'count'],
};

export default function () {
  const nick = `k6-${__VU}-${__ITER % 100000}`;
  const ws = new WebSocket(URL, ['chat.v2']);
  const pending = {};
  let waiting = 0;
  let said = 0;
  let received = 0;
  let ackEvery = 16;
  let done = false;
  let failed = false;
  let timer = null;

  const fail = (kind) => {
    if (!failed) {
      failed = true;
      errors.add(1, { kind });
    }
  };
  const deadline = setTimeout(() => {
    fail('timeout');
    ws.close();
  }, SESSION_TIMEOUT_MS);
  const finish = () => {
    done = true;
    clearTimeout(deadline);
    sessions.add(1);
    ws.close();
  };
  const say = () => {
    if (said >= MESSAGES || failed) {
      return;
    }
    const text = `${nick}:${said}`;
    pending[text] = Date.now();
    waiting += 1;
    said += 1;
    ws.send(JSON.stringify({ type: 'message', text }));
    if (said < MESSAGES) {
      timer = setTimeout(say, PAUSE_MS);
    }
  };

  ws.onopen = () => ws.send(JSON.stringify({ type: 'join', nick }));
  ws.onmessage = (message) => {
    received += 1;
    events.add(1);
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (error) {
      fail('not JSON');
      return;
    }
    if (event.type === 'welcome') {
      ackEvery = event.ack;
      say();
    } else if (event.type === 'message' && event.nick === nick && pending[event.text] !== undefined) {
      latency.add(Date.now() - pending[event.text]);
      delete pending[event.text];
      waiting -= 1;
      messages.add(1);
    } else if (event.type === 'gap') {
      gaps.add(event.missed);
    } else if (event.type === 'error') {
      fail('error event');
    }
    if (received % ackEvery === 0) {
      ws.send(JSON.stringify({ type: 'ack', received }));
    }
    if (said === MESSAGES && waiting === 0 && !done) {
      finish();
    }
  };
  ws.onerror = () => fail('error');
  ws.onclose = () => {
    clearTimeout(deadline);
    if (timer !== null) {
      clearTimeout(timer);
    }
    if (!done) {
      fail('closed early');
    }
  };
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY || 'summary.json']: JSON.stringify(data) };
}
