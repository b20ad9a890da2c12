// A user: a header with their numbers and the erase action, then one tab.
import { api, path } from "../api.js";
import { h, link, replace, route } from "../dom.js";
import { plural } from "../format.js";
import { typedConfirm } from "../widgets.js";
import { memoriesTab } from "./memories.js";
import { searchTab } from "./search.js";
import { contextTab } from "./context.js";
import { conversationsTab } from "./conversations.js";
import { documentsTab } from "./documents.js";
import { settingsTab } from "./settings.js";

const TABS = [
  ["memories", "Memories", memoriesTab],
  ["search", "Search", searchTab],
  ["context", "Context", contextTab],
  ["conversations", "Conversations", conversationsTab],
  ["documents", "Documents", documentsTab],
  ["settings", "Settings", settingsTab],
];

export async function userPage(target, context) {
  const [, userId, tabName = "memories", ...rest] = context.parts;
  const tab = TABS.find(([name]) => name === tabName) ?? TABS[0];
  const stats = await api.get(path("memories", userId, "stats"));
  const danger = h("div", { class: "danger-zone" });
  const summary = stats.memories;
  target.append(
    h("div", { class: "user-head" },
      h("h1", {}, h("span", { class: "muted" }, "User "), h("span", { id: "user-id" }, userId)),
      h("p", { class: "muted" },
        `${plural(summary.active, "current memory", "current memories")} · ` +
        `${summary.superseded} superseded · ${plural(stats.rows.messages ?? 0, "turn")} · ` +
        `${plural(stats.rows.documents ?? 0, "document")}`),
      h("button", { type: "button", class: "danger", id: "erase-user", on: { click: () =>
        replace(danger, eraseDialog(userId)) } }, "Erase user…")),
    danger,
    h("nav", { class: "tabs" }, TABS.map(([name, label]) =>
      link(label, ["user", userId, name], {}, { class: name === tab[0] ? "active" : null,
        dataset: { tab: name } }))),
  );
  const body = h("div", { class: "tab-body" });
  target.append(body);
  await tab[2](body, { ...context, userId, rest, stats });
}

function eraseDialog(userId) {
  return typedConfirm({
    prompt: "This erases everything stored about this user, in every table and cache. " +
      "Type the user id to confirm:",
    expected: userId,
    actionText: "Erase everything",
    action: async () => {
      const result = await api.delete(path("memories", userId, "all"));
      const counts = Object.entries(result.deleted).filter(([, n]) => n > 0)
        .map(([table, n]) => `${table}: ${n}`).join(", ");
      return h("p", { class: "notice notice-info", id: "erased" },
        `Erased ${result.total} rows (${counts || "nothing was stored"}). `,
        h("a", { href: route([]) }, "Back to users"));
    },
  });
}
