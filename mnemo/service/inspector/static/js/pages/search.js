// Search as the application sees it, with each score component drawn as a bar.
import { api, path } from "../api.js";
import { h, link, route } from "../dom.js";
import { number } from "../format.js";
import { badge, bar } from "../widgets.js";

/** The breakdown's components: [key, what it measures, bounded in [0, 1]?]. The first four
 * make ``relevance``; the last five are mixed into the score by the service's weights. */
export const COMPONENTS = [
  ["vector", "cosine similarity of the query and the memory", true],
  ["lexical", "BM25 over the words they share (scaled to the best result here)", false],
  ["neighbour", "borrowed from the items stored right before and after it (fused units)",
    false],
  ["context", "lent by where and when it was said: a date the query names (\"in May\", " +
    "\"last week\") lifts memories created inside it, and the items two places away lend " +
    "like neighbours do (fused units)", false],
  ["relevance", "vector and lexical fused, plus what neighbour and context lend, rescaled " +
    "over the candidates", true],
  ["recency", "newer memories weigh more (half-life)", true],
  ["access", "how often it was read before", true],
  ["confidence", "how sure extraction was", true],
  ["importance", "how much it matters", true],
];
const KNOWN = new Set(COMPONENTS.map(([key]) => key));

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
  const components = drawn(found.results);
  const scale = maxima(found.results, components);
  const weights = found.weights ?? {};
  target.append(
    h("p", { class: "muted" }, `${found.results.length} result(s) for “`, text, "”"),
    formula(weights),
    found.results.length ? h("ol", { class: "results", id: "search-results" },
      found.results.map((hit) => result(hit, components, scale, weights)))
      : h("p", { class: "empty" }, "No memory."),
    legend(components),
  );
}

/** The known components, then any other number the breakdown reports (ranks aside), so a
 * component added to the search later is drawn before it is described here. */
function drawn(results) {
  const extra = new Set();
  for (const hit of results) {
    for (const [key, value] of Object.entries(hit.scores)) {
      if (!KNOWN.has(key) && !key.endsWith("_rank") && typeof value === "number") extra.add(key);
    }
  }
  return [...COMPONENTS, ...[...extra].sort().map((key) =>
    [key, "reported by the search (not described by this page yet)", false])];
}

function maxima(results, components) {
  const scale = {};
  for (const [key, , bounded] of components) {
    const values = results.map((hit) => hit.scores[key]).filter(Number.isFinite);
    scale[key] = bounded ? 1 : Math.max(1e-9, ...values.map(Math.abs));
  }
  return scale;
}

/** ``score = 0.90 × relevance + 0.02 × recency + …``: how the bars make the score. */
function formula(weights) {
  const terms = Object.entries(weights).filter(([, w]) => w > 0);
  if (!terms.length) return null;
  return h("p", { class: "formula", id: "score-formula" }, "score = ",
    terms.map(([name, weight], i) => [i ? " + " : "", `${number(weight, 2)} × `,
      h("strong", {}, name)]));
}

function result(hit, components, scale, weights) {
  const ranks = ["vector_rank", "lexical_rank"].filter((key) => key in hit.scores)
    .map((key) => `${key.replace("_rank", "")} #${hit.scores[key]}`).join(" · ");
  return h("li", { class: "result" },
    h("div", { class: "result-head" },
      h("span", { class: "score", title: "final score" }, number(hit.score, 3)), " ",
      link(hit.content, ["memory", hit.id], {}, { class: "memory-link" }), " ", badge(hit.kind),
      hit.status !== "active" ? badge(hit.status) : null),
    h("div", { class: "bars" }, components.map(([key, meaning]) => key in hit.scores
      ? bar(key, number(hit.scores[key], 3), hit.scores[key] / scale[key], meaning,
        contribution(hit.scores[key], weights[key]))
      : bar(key, "—", 0, `${meaning} (not reported by this search)`))),
    ranks ? h("p", { class: "muted ranks" }, `candidate ranks: ${ranks}`) : null);
}

/** What a weighted signal adds to the score, e.g. ``+0.731``. */
function contribution(value, weight) {
  return Number.isFinite(weight) && weight > 0 ? `+${(value * weight).toFixed(3)}` : null;
}

function legend(components) {
  return h("details", { class: "legend" }, h("summary", {}, "What the bars mean"),
    h("p", { class: "muted" }, "Candidates come from the vector and lexical legs; their fused " +
      "score, plus what neighbour and context lend, is rescaled to [0, 1] as relevance. The " +
      "score is the weighted sum shown above the results; the column after each weighted " +
      "bar is what it added."),
    h("dl", {}, components.map(([key, meaning]) => [h("dt", {}, key), h("dd", {}, meaning)])));
}
