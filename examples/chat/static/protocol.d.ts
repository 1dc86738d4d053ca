// Generated from examples/chat/protocol.py: do not edit.

export type ClientMessage = Join | Say | Ack;
export type ServerMessageV1 = Welcome | Joined | Left | SaidV1 | Gap | Resumed | Error;
export type ServerMessageV2 = Welcome | Joined | Left | Said | Gap | Resumed | Error;

/**
 * How many events the page received on this connection so far: at least every `ack` events.
 */
export interface Ack {
  type: "ack";
  received: number;
}
/**
 * The first message: join the room as `nick`; coming back, with `session` and `since`.
 */
export interface Join {
  type: "join";
  nick: string;
  session?: string | null;
  since?: string | null;
}
/**
 * Say `text` to the room.
 */
export interface Say {
  type: "message";
  text: string;
}
/**
 * The page's last message was not taken: why.
 */
export interface Error {
  type: "error";
  error: string;
}
/**
 * Events this page will not get: `missed` of them (null when nobody can tell).
 */
export interface Gap {
  type: "gap";
  missed: number | null;
  cause: "ahead" | "overflow" | "reset" | "retention";
  pos: string;
  users: string[];
  stats: Stats;
}
export interface Stats {
  users: number;
}
/**
 * Someone joined the room.
 */
export interface Joined {
  type: "join";
  nick: string;
  pos: string;
  users: string[];
  stats: Stats;
}
/**
 * Someone left the room: `left`, `lost` (their worker died) or `too slow`.
 */
export interface Left {
  type: "leave";
  nick: string;
  reason: string;
  pos: string;
  users: string[];
  stats: Stats;
}
/**
 * Every event the page missed came, `missed` of them messages: live ones follow.
 */
export interface Resumed {
  type: "resumed";
  missed: number;
}
/**
 * Someone said something (`chat.v2`: with the time it was said, in seconds since 1970).
 */
export interface Said {
  type: "message";
  nick: string;
  text: string;
  ts: number;
  pos: string;
  users: string[];
  stats: Stats;
}
/**
 * Someone said something (`chat.v1`: no timestamp).
 */
export interface SaidV1 {
  type: "message";
  nick: string;
  text: string;
  pos: string;
  users: string[];
  stats: Stats;
}
/**
 * The first event: the nickname the member has, and where in the room it starts.
 */
export interface Welcome {
  type: "welcome";
  nick: string;
  protocol: "chat.v1" | "chat.v2";
  ack: number;
  pos: string;
  resumed: boolean;
  recovered: boolean | null;
  users: string[];
  stats: Stats;
}
