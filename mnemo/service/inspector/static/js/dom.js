// Building the page from data. Every value becomes a text node or an attribute
// set through the DOM: nothing here parses markup, so stored content (memories,
// turns, documents, settings) can never become HTML or script.

/** An element: ``h("a", {href: "#/", class: "x", on: {click}}, "text", child, [more])``. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    setProp(el, name, value);
  }
  append(el, children);
  return el;
}

function setProp(el, name, value) {
  if (value === undefined || value === null || value === false) return;
  if (name === "on") {
    for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
  } else if (name === "class") {
    el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
  } else if (name === "style") {
    Object.assign(el.style, value); // the CSSOM, which the page's CSP allows
  } else if (name === "dataset") {
    Object.assign(el.dataset, value);
  } else if (name === "value" || name === "checked" || name === "disabled") {
    el[name] = value;
  } else if (/^on/i.test(name) || name === "srcdoc" || name === "innerHTML") {
    throw new Error(`refusing to set ${name}: use on: {event: handler}`);
  } else {
    el.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Append children: nodes as they are, anything else as text; arrays are flattened. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A link inside the inspector; ``parts`` are path segments, each URI-encoded. */
export function link(text, parts, query = {}, props = {}) {
  return h("a", { href: route(parts, query), ...props }, text);
}

/** The hash of an inspector page. */
export function route(parts, query = {}) {
  const path = parts.map((part) => encodeURIComponent(String(part))).join("/");
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return `#/${path}${text ? `?${text}` : ""}`;
}
