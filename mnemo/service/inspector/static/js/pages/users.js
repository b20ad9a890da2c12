// The first page: the tenant's users, their memories per kind and last activity.
import { api } from "../api.js";
import { h, link, route } from "../dom.js";
import { ago, when } from "../format.js";
import { table } from "../widgets.js";

const PAGE = 50;

export async function usersPage(target, { query }) {
  const after = query.get("after") ?? undefined;
  const page = await api.get("/users", { after, limit: PAGE });
  const goTo = h("input", { type: "text", name: "user", id: "open-user",
    placeholder: "a user id", "aria-label": "user id" });
  target.append(
    h("h1", {}, "Users"),
    h("form", { class: "inline", on: { submit: (event) => {
      event.preventDefault();
      if (goTo.value.trim()) window.location.hash = route(["user", goTo.value.trim(), "memories"]);
    } } }, "Open a user by id: ", goTo, " ", h("button", { type: "submit" }, "Open")),
    table([
      ["User", (u) => link(u.user_id, ["user", u.user_id, "memories"], {}, { class: "user-link" })],
      ["Current memories", (u) => [h("strong", {}, String(u.memories)), " ",
        Object.entries(u.kinds).map(([kind, count]) =>
          h("span", { class: "chip" }, `${kind} ${count}`))]],
      ["Superseded", (u) => String(u.superseded)],
      ["Turns", (u) => String(u.messages)],
      ["Last activity", (u) => h("span", { title: when(u.last_activity) }, ago(u.last_activity))],
    ], page.items, { empty: "No user has memories or conversation turns yet." }),
    h("p", { class: "pager" },
      after ? link("First page", []) : null, " ",
      page.next_after ? link("Next page", [], { after: page.next_after }) : null),
  );
}
