// The token-budgeted context for a query: each section's tokens, and what was dropped.
import { api } from "../api.js";
import { h, route } from "../dom.js";
import { number } from "../format.js";
import { badge, pre, table } from "../widgets.js";

export async function contextTab(target, { userId, query }) {
  const text = query.get("q") ?? "";
  const budget = Number(query.get("max_tokens") ?? 500) || 500;
  const session = query.get("session_id") ?? "";
  const input = h("input", { type: "search", name: "q", id: "context-query", value: text,
    size: 50, required: true, placeholder: "what is the model about to answer?" });
  const tokens = h("input", { type: "number", name: "max_tokens", id: "context-budget", min: 1,
    max: 32000, value: String(budget) });
  const sessionInput = h("input", { type: "text", name: "session_id", value: session,
    placeholder: "session (optional)" });
  target.append(h("form", { class: "inline", on: { submit: (event) => {
    event.preventDefault();
    window.location.hash = route(["user", userId, "context"], {
      q: input.value.trim(), max_tokens: tokens.value, session_id: sessionInput.value.trim() });
  } } }, input, " budget ", tokens, " tokens ", sessionInput, " ",
  h("button", { type: "submit" }, "Compose")));
  if (!text) return;
  const result = await api.post("/context", {
    query: text, user_id: userId, max_tokens: budget, session_id: session || undefined });
  target.append(
    h("p", { id: "context-total" }, h("strong", {}, `${result.tokens} of ${result.max_tokens}`),
      ` tokens (${result.token_counter})`, result.degraded ? badge("degraded") : null),
    h("div", { class: "sections" }, result.sections.map(section)),
    h("h2", {}, "Dropped"),
    table([
      ["Section", (d) => d.section],
      ["Why", (d) => badge(d.reason === "budget" ? "over budget" : "duplicate", d.reason)],
      ["Kept in", (d) => d.kept_in ?? "—"],
      ["Content", (d) => d.content],
    ], result.dropped, { empty: "Nothing was dropped: everything found fit the budget." }),
    h("h2", {}, "The context as the model gets it"),
    pre(result.context, { id: "context-text" }),
  );
}

function section(s) {
  return h("section", { class: "context-section", dataset: { section: s.name } },
    h("h3", {}, s.title, " ", badge(s.status), " ",
      h("span", { class: "tokens" }, `${s.tokens} / ${s.quota} tokens`)),
    h("p", { class: "muted" }, `found ${s.found} · dropped for budget ${s.dropped_for_budget}` +
      ` · duplicates ${s.dropped_duplicates} · share ${number(s.share, 2)} · ` +
      `${number(s.elapsed_ms, 1)} ms`),
    s.error ? h("p", { class: "notice notice-error" }, s.error) : null,
    s.entries.length ? h("ul", { class: "entries" }, s.entries.map((entry) =>
      h("li", {}, h("span", { class: "tokens" }, `${entry.tokens} t`), " ", entry.text,
        entry.truncated ? badge("truncated") : null))) : null);
}
