// The reference documents a user can search (their own and the tenant's shared ones).
import { api, path } from "../api.js";
import { h, route } from "../dom.js";
import { number, when } from "../format.js";
import { badge, table } from "../widgets.js";

export async function documentsTab(target, { userId, query }) {
  const documents = await api.get(path("documents", userId), { limit: 200 });
  const text = query.get("q") ?? "";
  const input = h("input", { type: "search", name: "q", id: "document-query", value: text,
    size: 50, placeholder: "search the passages" });
  target.append(
    table([
      ["Name", (d) => d.name],
      ["Title", (d) => d.title ?? "—"],
      ["Format", (d) => d.format],
      ["Chunks", (d) => String(d.chunk_count)],
      ["Characters", (d) => String(d.char_count)],
      ["Owner", (d) => (d.shared ? badge("shared") : badge("user"))],
      ["Loaded", (d) => `${when(d.loaded_at)} (version ${d.version})`],
    ], documents, { empty: "No reference document is loaded for this user." }),
    h("form", { class: "inline", on: { submit: (event) => {
      event.preventDefault();
      window.location.hash = route(["user", userId, "documents"], { q: input.value.trim() });
    } } }, input, " ", h("button", { type: "submit" }, "Search documents")),
  );
  if (!text) return;
  const hits = await api.post(path("documents", userId, "search"), { query: text, top_k: 10 });
  target.append(h("ol", { class: "results", id: "document-results" }, hits.map((hit) =>
    h("li", { class: "result" }, h("span", { class: "score" }, number(hit.score, 3)), " ",
      h("strong", {}, hit.document_name), hit.heading_path.length
        ? ` › ${hit.heading_path.join(" › ")}` : "",
      h("p", { class: "turn-content" }, hit.content)))));
}
