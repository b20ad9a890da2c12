// Search as the application sees it, with each score component drawn as a bar.
import { api, path } from "../api.js";
import { h, link, route } from "../dom.js";
import { number } from "../format.js";
import { badge, bar } from "../widgets.js";

/** The breakdown's components: [key, what it measures, bounded in [0, 1]?]. */
export const COMPONENTS = [
  ["vector", "cosine similarity of the query and the memory", true],
  ["lexical", "BM25 over the words they share (scaled to the best result here)", false],
  ["neighbour", "borrowed from the items stored right before and after it", false],
  ["relevance", "vector and lexical fused, plus what neighbours lend, over the candidates", true],
  ["recency", "newer memories weigh more (half-life)", true],
  ["access", "how often it was read before", true],
  ["confidence", "how sure extraction was", true],
  ["importance", "how much it matters", true],
];

export async function searchTab(target, { userId, query }) {
  const text = query.get("q") ?? "";
  const topK = Number(query.get("top_k") ?? 10) || 10;
  const input = h("input", { type: "search", name: "q", id: "search-query", value: text,
    placeholder: "what would the application ask?", size: 60, required: true });
  target.append(h("form", { class: "inline", on: { submit: (event) => {
    event.preventDefault();
    window.location.hash = route(["user", userId, "search"], { q: input.value.trim(), top_k: topK });
  } } }, input, " ", h("button", { type: "submit" }, "Search")));
  if (!text) {
    target.append(h("p", { class: "muted" }, "Each result shows why it came back: one bar per " +
      "score component. The final score mixes relevance, recency, access, confidence and " +
      "importance by the service's configured weights."));
    return;
  }
  const found = await api.post(path("memories", userId, "search"), { query: text, top_k: topK });
  const scale = maxima(found.results);
  target.append(
    h("p", { class: "muted" }, `${found.results.length} result(s) for “`, text, "”"),
    found.results.length ? h("ol", { class: "results", id: "search-results" },
      found.results.map((hit) => result(hit, scale))) : h("p", { class: "empty" }, "No memory."),
    legend(),
  );
}

function maxima(results) {
  const scale = {};
  for (const [key, , bounded] of COMPONENTS) {
    const values = results.map((hit) => hit.scores[key]).filter(Number.isFinite);
    scale[key] = bounded ? 1 : Math.max(1e-9, ...values.map(Math.abs));
  }
  return scale;
}

function result(hit, scale) {
  const ranks = ["vector_rank", "lexical_rank"].filter((key) => key in hit.scores)
    .map((key) => `${key.replace("_rank", "")} #${hit.scores[key]}`).join(" · ");
  return h("li", { class: "result" },
    h("div", { class: "result-head" },
      h("span", { class: "score", title: "final score" }, number(hit.score, 3)), " ",
      link(hit.content, ["memory", hit.id], {}, { class: "memory-link" }), " ", badge(hit.kind),
      hit.status !== "active" ? badge(hit.status) : null),
    h("div", { class: "bars" }, COMPONENTS.map(([key, meaning]) => key in hit.scores
      ? bar(key, number(hit.scores[key], 3), hit.scores[key] / scale[key], meaning)
      : bar(key, "—", 0, `${meaning} (not reported by this search)`))),
    ranks ? h("p", { class: "muted ranks" }, `candidate ranks: ${ranks}`) : null);
}

function legend() {
  return h("details", { class: "legend" }, h("summary", {}, "What the bars mean"),
    h("dl", {}, COMPONENTS.map(([key, meaning]) => [h("dt", {}, key), h("dd", {}, meaning)])));
}
