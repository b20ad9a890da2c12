// One memory: what it says, where it came from, how it changed, and editing it.
import { api, path } from "../api.js";
import { h, link, replace } from "../dom.js";
import { json, number, when } from "../format.js";
import { badge, confirmButton, facts, failure, notice, pre } from "../widgets.js";

/** Fields a history entry compares, in the order they are shown. */
const TRACKED = ["content", "kind", "status", "confidence", "importance", "decay_score", "pinned",
  "valid_from", "valid_to", "superseded_by", "metadata", "source_message_ids", "merged_into",
  "merged"];

export async function memoryPage(target, { parts, refresh }) {
  const memoryId = parts[1];
  const [provenance, history] = await Promise.all([
    api.get(path("memories", memoryId, "provenance")),
    api.get(path("memories", memoryId, "history")),
  ]);
  const memory = provenance.memory;
  target.append(
    h("p", { class: "crumbs" }, link("Users", []), " / ",
      link(memory.user_id, ["user", memory.user_id, "memories"]), " / memory"),
    h("h1", { class: "memory-content", id: "memory-content" }, memory.content),
    h("p", {}, badge(memory.kind), " ",
      badge(memory.status === "active" ? "current" : memory.status, memory.status), " ",
      memory.pinned ? badge("pinned") : null, " ", h("code", { class: "muted" }, memory.id)),
    lineage(provenance),
    h("div", { class: "columns" },
      h("section", {}, h("h2", {}, "Details"), details(memory)),
      h("section", {}, h("h2", {}, "Source turns"), sources(provenance))),
    h("section", {}, h("h2", {}, "History"), timeline(history)),
    memory.status === "deleted" ? null : editor(memory, refresh),
  );
}

function lineage({ superseded_by: successor, supersedes }) {
  if (!successor && !supersedes.length) return null;
  return h("section", { class: "lineage" },
    successor ? h("p", { id: "superseded-by" }, "Superseded by ",
      link(successor.content, ["memory", successor.id]), " ", badge(successor.status),
      ` since ${when(successor.valid_from ?? successor.created_at)}`) : null,
    supersedes.length ? h("div", { id: "supersedes" }, "It replaced: ",
      h("ul", {}, supersedes.map((old) => h("li", {}, link(old.content, ["memory", old.id]),
        ` (valid until ${when(old.valid_to)})`)))) : null);
}

function details(m) {
  return facts([
    ["Confidence", number(m.confidence, 2)],
    ["Importance", number(m.importance, 2)],
    ["Decay score", number(m.decay_score, 2)],
    ["Pinned", m.pinned ? "yes" : "no"],
    ["Read", `${m.access_count} times, last ${when(m.last_accessed_at)}`],
    ["Learned", when(m.created_at)],
    ["Changed", when(m.updated_at)],
    ["Valid", `${when(m.valid_from ?? m.created_at)} → ${m.valid_to ? when(m.valid_to) : "now"}`],
    ["Scope", [link(m.user_id, ["user", m.user_id, "memories"]),
      m.agent_id ? ` · agent ${m.agent_id}` : "", m.session_id ? ` · session ${m.session_id}` : ""]],
    ["Embedding model", m.embedding_model ?? "—"],
    ["Metadata", pre(json(m.metadata))],
  ]);
}

function sources({ memory, sources: turns, extraction }) {
  if (!memory.source_message_ids.length) {
    return h("p", { class: "empty" }, "Stored directly (not extracted from a conversation).");
  }
  const missing = memory.source_message_ids.length - turns.length;
  return h("div", {},
    h("ul", { class: "turns" }, turns.map((turn) => h("li", { class: "source-turn" },
      link(`session ${turn.session_id} · turn ${turn.turn_number}`,
        ["user", memory.user_id, "conversations", turn.session_id], { turn: turn.turn_number },
        { class: "turn-link" }),
      " ", badge(turn.role), " ", extraction[turn.id] ? badge(extraction[turn.id]) : null,
      h("blockquote", {}, turn.name ? `${turn.name}: ` : "", turn.content)))),
    missing > 0 ? notice(`${missing} source turn(s) no longer stored.`) : null);
}

function timeline(events) {
  return h("ol", { class: "timeline", id: "history" }, events.map((event) =>
    h("li", { class: ["event", `event-${event.event}`], dataset: { event: event.event } },
      h("div", { class: "event-head" }, badge(event.event), " ",
        h("time", {}, when(event.created_at)), event.actor ? ` · ${event.actor}` : ""),
      event.reason ? h("p", { class: "reason" }, event.reason) : null,
      changes(event))));
}

function changes({ before, after }) {
  const rows = TRACKED.filter((field) => {
    const old = before?.[field];
    const now = after?.[field];
    return (old !== undefined || now !== undefined) && JSON.stringify(old) !== JSON.stringify(now);
  });
  if (!rows.length) return null;
  return h("table", { class: "changes" },
    h("tr", {}, h("th", {}, "field"), h("th", {}, "before"), h("th", {}, "after")),
    rows.map((field) => h("tr", {}, h("td", {}, field),
      h("td", {}, shown(field, before?.[field])), h("td", {}, shown(field, after?.[field])))));
}

function shown(field, value) {
  if (value === undefined || value === null) return h("span", { class: "muted" }, "—");
  if (["superseded_by", "merged_into"].includes(field)) return link(String(value), ["memory", value]);
  if (typeof value === "object") return pre(json(value));
  return String(value);
}

function editor(memory, refresh) {
  const status = h("div", { id: "edit-status" });
  const content = h("textarea", { name: "content", id: "edit-content", rows: 3 });
  content.value = memory.content;
  const importance = h("input", { type: "number", name: "importance", id: "edit-importance",
    min: 0, max: 1, step: 0.05, value: String(memory.importance) });
  const pinned = h("input", { type: "checkbox", name: "pinned", id: "edit-pinned",
    checked: memory.pinned });
  const save = async (event) => {
    event.preventDefault();
    const changes = {};
    if (content.value !== memory.content) changes.content = content.value;
    if (Number(importance.value) !== memory.importance) changes.importance = Number(importance.value);
    if (pinned.checked !== memory.pinned) changes.pinned = pinned.checked;
    if (!Object.keys(changes).length) {
      replace(status, notice("Nothing changed."));
      return;
    }
    try {
      await api.patch(path("memories", memory.id), changes);
      await refresh();
    } catch (error) {
      replace(status, failure(error));
    }
  };
  const remove = confirmButton("Delete memory", "Click again to delete", async () => {
    try {
      await api.delete(path("memories", memory.id));
      await refresh();
    } catch (error) {
      replace(status, failure(error));
    }
  });
  remove.id = "delete-memory";
  return h("section", { class: "editor" }, h("h2", {}, "Edit"),
    h("form", { id: "edit-memory", on: { submit: save } },
      h("label", { class: "block" }, "Content", content),
      h("label", {}, "Importance ", importance), " ",
      h("label", {}, pinned, " pinned (never decays or is cleaned up)"), " ",
      h("button", { type: "submit", id: "save-memory" }, "Save")),
    remove, status);
}
