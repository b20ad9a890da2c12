// The inspector's shell: the key prompt, the health strip, and the hash router.
import { api, ApiError, keyStore } from "./api.js";
import { h, replace } from "./dom.js";
import { renderHealth } from "./health.js";
import { failure } from "./widgets.js";
import { usersPage } from "./pages/users.js";
import { userPage } from "./pages/user.js";
import { memoryPage } from "./pages/memory.js";
import { queuePage } from "./pages/queue.js";

const page = document.getElementById("page");
const healthStrip = document.getElementById("health");
const keyStatus = document.getElementById("key-status");
let service = null; // what /health says: version and whether keys are needed
let rendering = 0;

/** ``#/a/b?x=1`` as ``{parts: ["a", "b"], query: URLSearchParams}``. */
function currentRoute() {
  const [pathText, queryText = ""] = window.location.hash.replace(/^#\/?/, "").split("?");
  const parts = pathText.split("/").filter(Boolean).map(decoded);
  return { parts, query: new URLSearchParams(queryText) };
}

function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a malformed escape stays as typed
  }
}

function pageFor(parts) {
  const [first, ...rest] = parts;
  if (!first) return usersPage;
  if (first === "user" && rest.length) return userPage;
  if (first === "memory" && rest.length) return memoryPage;
  if (first === "queue") return queuePage;
  return null;
}

async function render() {
  const token = ++rendering;
  const route = currentRoute();
  markNav(route.parts[0] ?? "users");
  renderKeyStatus();
  if (service.auth === "keys" && !keyStore.get()) {
    replace(healthStrip);
    replace(page, keyForm());
    return;
  }
  renderHealth(healthStrip).catch((error) => replace(healthStrip, failure(error)));
  const show = pageFor(route.parts);
  if (!show) {
    replace(page, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to users")));
    return;
  }
  const target = h("div", { class: "page" });
  try {
    await show(target, { ...route, stillCurrent: () => token === rendering, refresh: render });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      keyStore.forget();
      replace(page, keyForm("The API key was refused; enter a valid one."));
      return;
    }
    target.append(failure(error));
  }
  if (token === rendering) replace(page, target);
}

function markNav(section) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.classList.toggle("active", link.dataset.nav === section ||
      (link.dataset.nav === "users" && ["user", "memory"].includes(section)));
  }
}

function renderKeyStatus() {
  if (service.auth !== "keys") {
    replace(keyStatus, h("span", { class: "muted" }, `mnemo ${service.version} · no API key needed`));
    return;
  }
  const key = keyStore.get();
  replace(keyStatus, h("span", { class: "muted" }, `mnemo ${service.version}`), " ",
    key ? h("button", { type: "button", id: "forget-key", on: { click: () => {
      keyStore.forget();
      render();
    } } }, "Forget key") : null);
}

function keyForm(message) {
  const input = h("input", { type: "password", name: "key", id: "api-key",
    autocomplete: "off", placeholder: "mk_…", required: true, size: 60 });
  return h("section", { class: "key-form" },
    h("h1", {}, "API key"),
    h("p", {}, "This service checks API keys. The key is kept in this tab's session " +
      "storage only, and sent as X-API-Key to this service's API."),
    message ? h("p", { class: "notice notice-error" }, message) : null,
    h("form", { on: { submit: (event) => {
      event.preventDefault();
      keyStore.set(input.value.trim());
      render();
    } } }, input, " ", h("button", { type: "submit" }, "Use key")));
}

async function start() {
  try {
    service = await api.get("/health");
  } catch (error) {
    replace(page, failure(error));
    return;
  }
  window.addEventListener("hashchange", render);
  await render();
}

start();
