// Echo sessions for k6, driven by bench/load.py: each iteration is one WebSocket session that
// opens, sends MESSAGES messages one at a time (text and binary alternately), waits for each
// echo, checks it and closes. Virtual users ramp up to VUS over RAMP, stay for HOLD, ramp down.
//
//   k6 run -e URL=ws://127.0.0.1:8000/ours -e SUMMARY=out.json bench/k6/echo.js
//
// Reported (see bench/load.py): load_sessions, load_messages, load_errors, load_latency
// (from send to echo, in ms: k6's clock has millisecond resolution).
import { WebSocket } from 'k6/experimental/websockets';
import { Counter, Trend } from 'k6/metrics';

const URL = __ENV.URL;
const VUS = parseInt(__ENV.VUS || '300', 10);
const RAMP = __ENV.RAMP || '10s';
const HOLD = __ENV.HOLD || '20s';
const MESSAGES = parseInt(__ENV.MESSAGES || '20', 10);
const SESSION_TIMEOUT_MS = parseInt(__ENV.SESSION_TIMEOUT_MS || '10000', 10);
const PADDING = 'x'.repeat(parseInt(__ENV.SIZE || '64', 10));

const latency = new Trend('load_latency', true);
const messages = new Counter('load_messages');
const sessions = new Counter('load_sessions');
const errors = new Counter('load_errors');

export const options = {
  scenarios: {
    echo: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: RAMP, target: VUS },
        { duration: HOLD, target: VUS },
        { duration: '2s', target: 0 },
      ],
      gracefulRampDown: '5s',
      gracefulStop: '10s',
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max', 'count'],
};

function message(index) {
  const text = `${__VU}:${__ITER}:${index}:${PADDING}`;
  if (index % 2 === 0) {
    return text;
  }
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    bytes[i] = text.charCodeAt(i);
  }
  return bytes.buffer;
}

function same(received, expected) {
  if (typeof expected === 'string') {
    return received === expected;
  }
  if (typeof received === 'string' || received.byteLength !== expected.byteLength) {
    return false;
  }
  const a = new Uint8Array(received);
  const b = new Uint8Array(expected);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

export default function () {
  const ws = new WebSocket(URL);
  ws.binaryType = 'arraybuffer';
  let sent = 0;
  let sentAt = 0;
  let expected = null;
  let failed = false;
  let done = false;
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

  const next = () => {
    if (sent === MESSAGES) {
      clearTimeout(deadline);
      done = true;
      sessions.add(1);
      ws.close();
      return;
    }
    expected = message(sent);
    sentAt = Date.now();
    ws.send(expected);
    sent += 1;
  };

  ws.onopen = next;
  ws.onmessage = (event) => {
    latency.add(Date.now() - sentAt);
    if (!same(event.data, expected)) {
      fail('mismatch');
      clearTimeout(deadline);
      ws.close();
      return;
    }
    messages.add(1);
    next();
  };
  ws.onerror = () => fail('error');
  ws.onclose = () => {
    clearTimeout(deadline);
    if (!done) {
      fail('closed early');
    }
  };
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY || 'summary.json']: JSON.stringify(data) };
}
