// Pieces several pages share: tables, badges, score bars, notices, confirmations.
import { h, replace } from "./dom.js";
import { ApiError } from "./api.js";

export function badge(text, kind = text) {
  return h("span", { class: ["badge", `badge-${String(kind).replace(/[^a-z0-9_-]/gi, "")}`] },
    text);
}

/** A table: ``columns`` are [heading, row => cell content]. */
export function table(columns, rows, { empty = "Nothing here.", rowProps } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, columns.map(([heading]) => h("th", {}, heading)))),
    h("tbody", {}, rows.map((row) => h("tr", rowProps ? rowProps(row) : {},
      columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

/** Label / value pairs. */
export function facts(pairs) {
  return h("dl", { class: "facts" },
    pairs.filter(Boolean).map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

/** One horizontal bar per score component; ``width`` is the share in [0, 1]; ``note``
 * (optional) follows the value, e.g. what the component added to the score. */
export function bar(label, value, width, title, note = null) {
  const share = Math.max(0, Math.min(1, Number.isFinite(width) ? width : 0));
  return h("div", { class: "bar-row", dataset: { component: label }, title },
    h("span", { class: "bar-label" }, label),
    h("span", { class: "bar-track" },
      h("span", { class: "bar-fill", style: { width: `${(share * 100).toFixed(1)}%` } })),
    h("span", { class: "bar-value" }, value),
    h("span", { class: "bar-note", title: note ? "added to the score" : null }, note ?? ""));
}

export function notice(text, kind = "info") {
  return h("p", { class: ["notice", `notice-${kind}`], role: kind === "error" ? "alert" : "status" },
    text);
}

/** What went wrong, said plainly (the API's own message). */
export function failure(error) {
  if (error instanceof ApiError) {
    return notice(`${error.status} ${error.type}: ${error.message}`, "error");
  }
  return notice(String(error?.message ?? error), "error");
}

export function pre(text, props = {}) {
  return h("pre", { class: "text", ...props }, text);
}

/** A form that calls ``onSubmit(values)``; ``fields`` are elements with a name. */
export function form(props, fields, submitText, onSubmit) {
  const el = h("form", { ...props, on: { submit: (event) => {
    event.preventDefault();
    const values = {};
    for (const input of el.querySelectorAll("[name]")) {
      values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    }
    onSubmit(values, el);
  } } }, fields, h("button", { type: "submit" }, submitText));
  return el;
}

/** A confirmation that the person must type ``expected`` into before ``action`` runs. */
export function typedConfirm({ prompt, expected, actionText, action }) {
  const status = h("div");
  const input = h("input", { type: "text", name: "confirm", autocomplete: "off",
    "aria-label": "type to confirm", spellcheck: "false" });
  const go = h("button", { type: "button", class: "danger", disabled: true }, actionText);
  input.addEventListener("input", () => { go.disabled = input.value !== expected; });
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      replace(status, await action());
    } catch (error) {
      replace(status, failure(error));
      go.disabled = input.value !== expected;
    }
  });
  return h("div", { class: "confirm" }, h("p", {}, prompt, " ", h("code", {}, expected)),
    input, " ", go, status);
}

/** A two-step button: the first click asks, the second does it. */
export function confirmButton(text, confirmText, action) {
  const button = h("button", { type: "button", class: "danger" }, text);
  let armed = false;
  button.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirmText;
      return;
    }
    button.disabled = true;
    await action();
  });
  return button;
}
