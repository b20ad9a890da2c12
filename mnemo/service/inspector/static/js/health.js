// The strip under the header: every dependency's state and the extraction backlog.
import { api } from "./api.js";
import { h, link, replace } from "./dom.js";
import { badge } from "./widgets.js";
import { number } from "./format.js";

export async function renderHealth(strip) {
  const [ready, queue] = await Promise.all([
    api.get("/health/ready"),
    api.get("/extractions", { status: "pending", limit: 1 }),
  ]);
  const checks = Object.entries(ready.checks).map(([name, check]) =>
    h("span", { class: "check", title: check.detail || name, dataset: { check: name } },
      `${name} `, badge(check.status),
      check.latency_ms === null ? null : h("small", {}, ` ${number(check.latency_ms, 1)} ms`)));
  const counts = queue.counts;
  replace(strip,
    h("span", { class: "check overall" }, "service ", badge(ready.status)),
    checks,
    h("span", { class: "check", dataset: { check: "extraction" } }, "extraction: ",
      `${counts.pending ?? 0} pending · `,
      link(`${counts.failed ?? 0} failed`, ["queue"], { status: "failed" }),
      ` · ${counts.done ?? 0} done`));
}
