// A user's active settings, each one's change history, and rollback to any version.
import { api, path } from "../api.js";
import { h, link, replace } from "../dom.js";
import { json, when } from "../format.js";
import { badge, failure, notice, pre, table } from "../widgets.js";

export async function settingsTab(target, { userId, query, refresh }) {
  const active = await api.get(path("settings", userId));
  const chosen = query.get("key");
  target.append(table([
    ["Setting", (row) => link(row.key, ["user", userId, "settings"], { key: row.key },
      { class: "setting-link" })],
    ["Active value", (row) => pre(json(row.value))],
  ], Object.entries(active).map(([key, value]) => ({ key, value })),
  { empty: "No setting is active for this user." }));
  if (chosen) target.append(await historyOf(userId, chosen, refresh));
}

async function historyOf(userId, key, refresh) {
  const history = await api.get(path("settings", userId, key, "history"));
  const status = h("div", { id: "rollback-status" });
  const current = history.length ? history[history.length - 1].version : 0;
  const rollback = async (version) => {
    try {
      await api.post(path("settings", userId, key, "rollback"), { to_version: version,
        expected_version: current, reason: `rolled back to version ${version} in the inspector` });
      await refresh();
    } catch (error) {
      replace(status, failure(error));
    }
  };
  return h("section", { id: "setting-history" }, h("h2", {}, "History of ", h("code", {}, key)),
    table([
      ["Version", (c) => String(c.version)],
      ["Change", (c) => badge(c.change)],
      ["Before", (c) => pre(json(c.old))],
      ["After", (c) => pre(json(c.new))],
      ["By", (c) => c.actor ?? "—"],
      ["Why", (c) => c.reason ?? "—"],
      ["When", (c) => when(c.at)],
      ["", (c) => (c.version === current ? h("span", { class: "muted" }, "current")
        : h("button", { type: "button", class: "rollback", dataset: { version: c.version },
          on: { click: () => rollback(c.version) } }, `Roll back to v${c.version}`))],
    ], history, { empty: "This setting has no recorded change." }),
    history.length ? null : notice("Unknown setting."), status);
}
