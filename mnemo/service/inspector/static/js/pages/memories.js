// A user's memories: by kind, status (current / superseded / deleted) and text, or
// as they stood at a moment chosen on the time slider.
import { api } from "../api.js";
import { h, link, route } from "../dom.js";
import { number, when } from "../format.js";
import { badge, table } from "../widgets.js";

export const KINDS = ["fact", "preference", "commitment", "instruction", "entity", "event", "note"];
const STATUSES = [["active", "current"], ["superseded", "superseded"], ["deleted", "deleted"]];
const PAGE = 50;
const STEPS = 1000;

export async function memoriesTab(target, { userId, query, stats }) {
  const filters = {
    kind: query.get("kind") ?? "",
    status: query.get("status") ?? "",
    contains: query.get("contains") ?? "",
    as_of: query.get("as_of") ?? "",
  };
  const offset = Number(query.get("offset") ?? 0) || 0;
  const page = await api.get("/memories", {
    user_id: userId, kind: filters.kind, contains: filters.contains, offset, limit: PAGE,
    ...(filters.as_of ? { as_of: filters.as_of } : { status: filters.status || "active" }),
  });
  const go = (changes) => {
    window.location.hash = route(["user", userId, "memories"], { ...filters, ...changes });
  };
  target.append(
    filterBar(filters, go),
    timeSlider(filters.as_of, stats.memories.first_created_at, go),
    table([
      ["Memory", (m) => link(m.content, ["memory", m.id], {}, { class: "memory-link" })],
      ["Kind", (m) => badge(m.kind)],
      ["Status", (m) => badge(m.status === "active" ? "current" : m.status, m.status)],
      ["Confidence", (m) => number(m.confidence, 2)],
      ["Importance", (m) => number(m.importance, 2)],
      ["Valid", (m) => `${when(m.valid_from ?? m.created_at)} → ${m.valid_to ? when(m.valid_to) : "now"}`],
    ], page.items, { empty: "No memory matches these filters." }),
    h("p", { class: "pager" },
      offset > 0 ? link("Previous", ["user", userId, "memories"],
        { ...filters, offset: Math.max(0, offset - PAGE) }) : null, " ",
      page.next_offset !== null ? link("Next", ["user", userId, "memories"],
        { ...filters, offset: page.next_offset }) : null),
  );
}

function filterBar(filters, go) {
  const kind = h("select", { name: "kind", id: "filter-kind" },
    h("option", { value: "" }, "every kind"),
    KINDS.map((k) => h("option", { value: k, selected: k === filters.kind }, k)));
  const status = h("select", { name: "status", id: "filter-status", disabled: !!filters.as_of },
    STATUSES.map(([value, label]) =>
      h("option", { value, selected: value === (filters.status || "active") }, label)));
  const text = h("input", { type: "search", name: "contains", id: "filter-text",
    value: filters.contains, placeholder: "text in the memory" });
  return h("form", { class: "filters", on: { submit: (event) => {
    event.preventDefault();
    go({ kind: kind.value, status: status.value === "active" ? "" : status.value,
      contains: text.value.trim(), offset: "" });
  } } },
  h("label", {}, "Kind ", kind), h("label", {}, "Status ", status),
  h("label", {}, "Text ", text), h("button", { type: "submit" }, "Filter"));
}

/** A slider from the user's first memory to now; moving it lists what was valid then. */
function timeSlider(asOf, firstCreated, go) {
  const start = firstCreated ? new Date(firstCreated).getTime() : Date.now();
  const end = Date.now();
  const span = Math.max(1, end - start);
  const position = asOf ? Math.round(((new Date(asOf).getTime() - start) / span) * STEPS) : STEPS;
  const label = h("output", { id: "as-of-label" }, asOf ? `as of ${when(asOf)}` : "now");
  const slider = h("input", { type: "range", id: "as-of", min: 0, max: STEPS, step: 1,
    value: String(Math.max(0, Math.min(STEPS, position))), "aria-label": "as of" });
  const at = () => new Date(start + (Number(slider.value) / STEPS) * span).toISOString();
  slider.addEventListener("input", () => {
    label.textContent = Number(slider.value) >= STEPS ? "now" : `as of ${when(at())}`;
  });
  slider.addEventListener("change", () => {
    go({ as_of: Number(slider.value) >= STEPS ? "" : at(), status: "", offset: "" });
  });
  return h("div", { class: "time-slider" },
    h("span", { class: "muted" }, when(firstCreated)), slider, h("span", { class: "muted" }, "now"),
    " ", label, " ",
    asOf ? h("button", { type: "button", id: "as-of-now", on: { click: () =>
      go({ as_of: "", offset: "" }) } }, "Back to now") : null);
}
