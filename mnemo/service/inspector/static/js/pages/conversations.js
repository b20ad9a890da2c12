// A user's sessions, and one session's turns with tool calls and extraction state.
import { api, path } from "../api.js";
import { h, link } from "../dom.js";
import { ago, json, when } from "../format.js";
import { badge, pre, table } from "../widgets.js";

const TURNS_PER_REQUEST = 1000;
const IDS_PER_REQUEST = 100;

export async function conversationsTab(target, { userId, rest, query }) {
  const [sessionId] = rest;
  if (sessionId === undefined) {
    const sessions = await api.get(path("users", userId, "sessions"));
    target.append(table([
      ["Session", (s) => link(s.session_id, ["user", userId, "conversations", s.session_id],
        {}, { class: "session-link" })],
      ["Turns", (s) => `${s.turns} (${s.first_turn}–${s.last_turn})`],
      ["Tool calls", (s) => String(s.tool_calls)],
      ["Started", (s) => when(s.started_at)],
      ["Last turn", (s) => h("span", { title: when(s.last_at) }, ago(s.last_at))],
      ["Extraction", (s) => Object.entries(s.extraction).map(([state, n]) =>
        [badge(`${n} ${state}`, state), " "])],
    ], sessions, { empty: "No conversation turns are stored for this user." }));
    return;
  }
  const turns = await allTurns(userId, sessionId);
  const states = await extractionStates(userId, turns.map((t) => t.id));
  const focus = Number(query.get("turn"));
  target.append(
    h("p", { class: "crumbs" }, link("Sessions", ["user", userId, "conversations"]), " / ",
      sessionId),
    h("ol", { class: "conversation", id: "turns" }, turns.map((t) =>
      turn(t, states[t.id], t.turn_number === focus))));
  const focused = target.querySelector(".turn.focus");
  if (focused) requestAnimationFrame(() => focused.scrollIntoView({ block: "center" }));
}

async function allTurns(userId, sessionId) {
  const turns = [];
  for (;;) {
    const after = turns.length ? turns[turns.length - 1].turn_number : undefined;
    const page = await api.get("/messages", { user_id: userId, session_id: sessionId,
      after_turn: after, limit: TURNS_PER_REQUEST });
    turns.push(...page);
    if (page.length < TURNS_PER_REQUEST) return turns;
  }
}

async function extractionStates(userId, ids) {
  const states = {};
  for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) {
    Object.assign(states, await api.get(path("users", userId, "extractions"),
      { message_id: ids.slice(i, i + IDS_PER_REQUEST) }));
  }
  return states;
}

function turn(t, state, focus) {
  return h("li", { class: ["turn", `role-${t.role}`, focus && "focus"], id: `turn-${t.turn_number}`,
    dataset: { turn: t.turn_number } },
  h("div", { class: "turn-head" }, h("strong", {}, `#${t.turn_number}`), " ", badge(t.role),
    t.name ? ` ${t.name}` : "", " ", h("time", {}, when(t.created_at)), " ",
    state ? extraction(state) : h("span", { class: "muted" }, "not queued for extraction")),
  t.content ? h("p", { class: "turn-content" }, t.content) : null,
  (t.tool_calls ?? []).map((call) => h("div", { class: "tool" },
    h("span", { class: "muted" }, "tool call "), h("code", {}, call.function?.name ?? call.name ?? "?"),
    pre(json(call.function?.arguments ?? call.arguments ?? call)))),
  (t.tool_results ?? []).map((result) => h("div", { class: "tool" },
    h("span", { class: "muted" }, "tool result"), pre(json(result)))));
}

function extraction(state) {
  return h("span", { class: "extraction" }, "extraction ", badge(state.status),
    state.attempts ? ` after ${state.attempts} attempt(s)` : "",
    state.memory_ids.map((id, i) => [" ", link(`memory ${i + 1}`, ["memory", id])]),
    state.last_error ? pre(state.last_error, { class: "text error" }) : null);
}
