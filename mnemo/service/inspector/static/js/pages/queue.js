// The extraction queue: turns pending, dead-lettered (with their errors) or done,
// and a retry of the dead-lettered ones.
import { api } from "../api.js";
import { h, link, replace, route } from "../dom.js";
import { ago, when } from "../format.js";
import { badge, failure, notice, pre, table } from "../widgets.js";

const STATUSES = ["failed", "pending", "done"];

export async function queuePage(target, { query, refresh }) {
  const status = STATUSES.includes(query.get("status")) ? query.get("status") : "failed";
  const userId = query.get("user_id") ?? "";
  const queue = await api.get("/extractions", { status, user_id: userId, limit: 200 });
  const userInput = h("input", { type: "text", name: "user_id", id: "queue-user", value: userId,
    placeholder: "every user" });
  const message = h("div", { id: "retry-status" });
  const failed = queue.counts.failed ?? 0;
  target.append(
    h("h1", {}, "Extraction queue"),
    h("nav", { class: "tabs" }, STATUSES.map((s) => link(`${s} (${queue.counts[s] ?? 0})`,
      ["queue"], { status: s, user_id: userId }, { class: s === status ? "active" : null,
        dataset: { status: s } }))),
    h("form", { class: "inline", on: { submit: (event) => {
      event.preventDefault();
      window.location.hash = route(["queue"], { status, user_id: userInput.value.trim() });
    } } }, "User ", userInput, " ", h("button", { type: "submit" }, "Show")),
    h("p", { class: "muted" }, `${queue.live_workers} live worker(s).`,
      queue.live_workers ? "" : " Queued turns wait until `mnemo worker` runs."),
    failed && status === "failed" ? h("p", {}, h("button", { type: "button", id: "retry-failed",
      on: { click: async () => {
        try {
          const result = await api.post("/extractions/retry", userId ? { user_id: userId } : {});
          const next = route(["queue"], { status, user_id: userId, retried: result.retried });
          if (window.location.hash === next) await refresh();
          else window.location.hash = next;
        } catch (error) {
          replace(message, failure(error));
        }
      } } }, `Retry ${failed} failed turn(s)${userId ? ` of ${userId}` : ""}`)) : null,
    query.has("retried")
      ? notice(`${query.get("retried")} turn(s) queued for extraction again.`) : null,
    message,
    table([
      ["User", (t) => link(t.user_id, ["user", t.user_id, "memories"])],
      ["Turn", (t) => t.session_id === null ? h("span", { class: "muted" }, "no longer stored")
        : link(`${t.session_id} #${t.turn_number}`, ["user", t.user_id, "conversations",
          t.session_id], { turn: t.turn_number })],
      ["Text", (t) => [t.role ? badge(t.role) : null, " ", t.content ?? ""]],
      ["Attempts", (t) => String(t.attempts)],
      [status === "done" ? "Memories" : "Last error", (t) => status === "done"
        ? t.memory_ids.map((id, i) => [link(`memory ${i + 1}`, ["memory", id]), " "])
        : (t.last_error ? pre(t.last_error, { class: "text error" }) : "—")],
      ["Changed", (t) => h("span", { title: when(t.updated_at) }, ago(t.updated_at))],
    ], queue.items, { empty: `No ${status} turn.`,
      rowProps: (t) => ({ class: "queued", dataset: { message: t.message_id } }) }),
  );
}
