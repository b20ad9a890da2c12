"""The service under attack: every case is refused with a clear 4xx, or (for another
tenant's user ids, which name nobody in the caller's tenant) answered with nothing;
in every case no row of the victim tenant is read or changed.

The victim tenant ``beta`` holds secrets; the attacker holds a valid key of tenant
``alpha`` (or no valid key at all). ``REJECTED`` cases must change nothing in the
whole database; ``ISOLATED`` cases may touch only the attacker's own tenant.
The case count is written down in docs/benchmarks.md (service security).
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest

from mnemo.service.app import create_app
from mnemo.service.settings import ServiceSettings
from tests.conftest import copied_database
from tests.service.conftest import Service, attack_service, service_config

API = "/api/v1"
SECRET = "beta-secret-launch-code-7731"
VICTIM_USER = "victim-user"


@dataclass
class Arena:
    service: Service
    attacker_key: str
    revoked_key: str
    victim_memory_id: str
    database_url: str


@dataclass(frozen=True)
class Case:
    """One attack: a request built from the arena, and what must come back."""

    name: str
    request: Callable[[Arena], dict[str, Any]]
    statuses: tuple[int, ...]
    key: str = "attacker"  # attacker | none | revoked | raw header value
    headers: dict[str, str] = field(default_factory=dict)


def req(method: str, path: str, **kwargs: Any) -> Callable[[Arena], dict[str, Any]]:
    """A request whose path may name ``{victim}`` (the victim's memory id)."""
    return lambda arena: {
        "method": method,
        "url": API + path.format(victim=arena.victim_memory_id),
        **kwargs,
    }


def memory_body(**changes: Any) -> dict[str, Any]:
    return {"user_id": "a1", "content": "a harmless note", **changes}


def deep_json(depth: int) -> bytes:
    return (
        b'{"user_id": "a1", "content": "x", "metadata": '
        + b'{"a": ' * depth
        + b"1"
        + b"}" * depth
        + b"}"
    )


NOT_UUIDS = ["1 OR 1=1", "../../etc/passwd", "%00", "'; DROP TABLE memories; --", "0" * 300]

REJECTED: list[Case] = [
    # -- authentication --------------------------------------------------------------
    Case("no key", req("GET", "/memories", params={"user_id": VICTIM_USER}), (401,), key="none"),
    Case("malformed key", req("GET", "/memories", params={"user_id": "u"}), (401,), key="mk_short"),
    Case(
        "right prefix, wrong secret",
        req("GET", "/memories", params={"user_id": "u"}),
        (401,),
        key="forged",
    ),
    Case("revoked key", req("GET", "/memories", params={"user_id": "u"}), (401,), key="revoked"),
    Case(
        "basic auth scheme",
        req("GET", "/memories", params={"user_id": "u"}),
        (401,),
        key="none",
        headers={"Authorization": "Basic YWRtaW46YWRtaW4="},
    ),
    Case(
        "empty X-API-Key",
        req("GET", "/memories", params={"user_id": "u"}),
        (401,),
        key="none",
        headers={"X-API-Key": ""},
    ),
    Case(
        "sql in the key",
        req("GET", "/memories", params={"user_id": "u"}),
        (401,),
        key="mk_' OR '1'='1",
    ),
    Case("unauthenticated write", req("POST", "/memories", json=memory_body()), (401,), key="none"),
    Case(
        "unauthenticated erasure", req("DELETE", f"/memories/{VICTIM_USER}/all"), (401,), key="none"
    ),
    # -- another tenant's memory id in paths -----------------------------------------
    Case("read victim memory", req("GET", "/memories/{victim}"), (404,)),
    Case(
        "update victim memory",
        req("PATCH", "/memories/{victim}", json={"content": "pwned"}),
        (404,),
    ),
    Case("delete victim memory", req("DELETE", "/memories/{victim}"), (404,)),
    Case("victim memory history", req("GET", "/memories/{victim}/history"), (404,)),
    Case(
        "victim memory as pinned", req("PATCH", "/memories/{victim}", json={"pinned": True}), (404,)
    ),
    # -- malformed ids ---------------------------------------------------------------
    *[
        Case(f"memory id {bad[:20]!r}", req("GET", f"/memories/{bad}"), (404, 422))
        for bad in NOT_UUIDS
    ],
    Case("patch non-uuid", req("PATCH", "/memories/1%20OR%201=1", json={"content": "x"}), (422,)),
    Case("user id too long", req("POST", "/memories", json=memory_body(user_id="u" * 256)), (422,)),
    Case("blank user id", req("POST", "/memories", json=memory_body(user_id="")), (422,)),
    Case("NUL in user id", req("POST", "/memories", json=memory_body(user_id="a\x00b")), (422,)),
    Case("user id not a string", req("POST", "/memories", json=memory_body(user_id=["a"])), (422,)),
    Case(
        "path user id too long",
        req("POST", "/memories/" + "u" * 300 + "/search", params={"query": "x"}),
        (422,),
    ),
    # -- SQL-ish input where SQL would be interpreted ----------------------------------
    Case(
        "sql in kind",
        req("POST", "/memories", json=memory_body(kind="note'; DROP TABLE memories; --")),
        (422,),
    ),
    Case(
        "sql operator in filter",
        req("POST", "/memories/a1/search", json={"query": "x", "filters": {"$where": "1=1"}}),
        (422,),
    ),
    Case(
        "sql in filter operator",
        req("POST", "/memories/a1/search", json={"query": "x", "filters": {"a": {"$eq; DROP": 1}}}),
        (422,),
    ),
    Case(
        "sql in list filter",
        req("GET", "/memories", params={"user_id": "a1", "filters": "1=1; DROP TABLE memories"}),
        (422,),
    ),
    Case(
        "sql in limit",
        req("GET", "/memories", params={"user_id": "a1", "limit": "1; DROP TABLE memories"}),
        (422,),
    ),
    Case(
        "sql in as_of",
        req(
            "POST",
            "/memories/a1/search",
            json={"query": "x", "as_of": "now()); DROP TABLE memories; --"},
        ),
        (422,),
    ),
    Case(
        "sql in kinds",
        req("GET", "/memories", params={"user_id": "a1", "kind": "note' OR '1'='1"}),
        (422,),
    ),
    # -- oversized input -------------------------------------------------------------
    Case(
        "content over the limit",
        req("POST", "/memories", json=memory_body(content="x" * 100_001)),
        (422,),
    ),
    Case(
        "body over 1 MiB",
        req("POST", "/memories", json=memory_body(content="x" * 1_100_000)),
        (413,),
    ),
    Case(
        "metadata over 64 kB",
        req("POST", "/memories", json=memory_body(metadata={"k": "x" * 70_000})),
        (422,),
    ),
    Case(
        "query over the limit",
        req("POST", "/memories/a1/search", json={"query": "q" * 10_001}),
        (422,),
    ),
    Case(
        "top_k over the limit",
        req("POST", "/memories/a1/search", params={"query": "q", "top_k": 101}),
        (422,),
    ),
    Case(
        "page over the limit",
        req("GET", "/memories", params={"user_id": "a1", "limit": 201}),
        (422,),
    ),
    Case(
        "negative offset", req("GET", "/memories", params={"user_id": "a1", "offset": -1}), (422,)
    ),
    Case(
        "deeply nested JSON",
        req(
            "POST",
            "/memories",
            content=deep_json(5000),
            headers={"content-type": "application/json"},
        ),
        (400, 413, 422),
    ),
    Case(
        "deep filter",
        req(
            "POST",
            "/memories/a1/search",
            json={
                "query": "x",
                "filters": {
                    "$not": {
                        "$not": {
                            "$not": {
                                "$not": {
                                    "$not": {
                                        "$not": {
                                            "$not": {"$not": {"$not": {"$not": {"$not": {"a": 1}}}}}
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            },
        ),
        (422,),
    ),
    Case(
        "import over the batch limit",
        lambda a: {
            "method": "POST",
            "url": f"{API}/users/a1/import",
            "content": b"".join(
                b'{"type": "row", "table": "memories", "data": {"content": "c"}}\n'
                for _ in range(5001)
            ),
        },
        (422,),
    ),
    # -- wrong vector dimensions -----------------------------------------------------
    Case(
        "3-dimensional vector",
        req("POST", "/memories", json=memory_body(embedding=[0.1, 0.2, 0.3])),
        (422,),
    ),
    Case(
        "5000-dimensional vector",
        req("POST", "/memories", json=memory_body(embedding=[0.01] * 5000)),
        (422,),
    ),
    Case(
        "vector of strings",
        req("POST", "/memories", json=memory_body(embedding=["a"] * 384)),
        (422,),
    ),
    Case(
        "NaN in vector",
        req(
            "POST",
            "/memories",
            content=b'{"user_id": "a1", "content": "x", "embedding": [NaN]}',
            headers={"content-type": "application/json"},
        ),
        (422,),
    ),
    Case(
        "batch item with wrong dimension",
        req(
            "POST",
            "/memories/batch",
            json={
                "user_id": "a1",
                "items": [{"content": "fine"}, {"content": "bad", "embedding": [1.0, 2.0]}],
            },
        ),
        (422,),
    ),
    # -- invalid JSON and values ------------------------------------------------------
    Case(
        "truncated JSON",
        req(
            "POST",
            "/memories",
            content=b'{"user_id": "a1", "content": ',
            headers={"content-type": "application/json"},
        ),
        (422,),
    ),
    Case("JSON array body", req("POST", "/memories", json=[memory_body()]), (422,)),
    Case(
        "text body",
        req(
            "POST",
            "/memories",
            content=b"user_id=a1&content=x",
            headers={"content-type": "text/plain"},
        ),
        (422,),
    ),
    Case("unknown field", req("POST", "/memories", json=memory_body(tenant_id="beta")), (422,)),
    Case("confidence above 1", req("POST", "/memories", json=memory_body(confidence=2.0)), (422,)),
    Case(
        "confidence as text", req("POST", "/memories", json=memory_body(confidence="high")), (422,)
    ),
    Case("unknown kind", req("POST", "/memories", json=memory_body(kind="secret")), (422,)),
    Case(
        "kind and type disagree",
        req("POST", "/memories", json=memory_body(kind="fact", type="note")),
        (422,),
    ),
    Case("empty update", req("PATCH", "/memories/{victim}", json={}), (404, 422)),
    Case(
        "update with unknown field",
        req("PATCH", "/memories/{victim}", json={"user_id": "alpha"}),
        (422,),
    ),
    Case("search without a query", req("POST", "/memories/a1/search"), (422,)),
    Case(
        "bad timestamp", req("POST", "/memories", json=memory_body(created_at="yesterday")), (422,)
    ),
    Case("import of non-JSON", req("POST", "/users/a1/import", content=b"not json at all"), (422,)),
    Case("import of non-UTF-8", req("POST", "/users/a1/import", content=b"\xff\xfe\x00"), (422,)),
    # -- huge batches ----------------------------------------------------------------
    Case(
        "batch of 5001",
        req("POST", "/memories/batch", json={"user_id": "a1", "items": [{"content": "x"}] * 5001}),
        (413, 422),
    ),
    Case(
        "batch over the service's limit",
        req("POST", "/memories/batch", json={"user_id": "a1", "items": [{"content": "x"}] * 1001}),
        (422,),
    ),
    Case(
        "empty batch", req("POST", "/memories/batch", json={"user_id": "a1", "items": []}), (422,)
    ),
    # -- the other kinds ---------------------------------------------------------------
    Case(
        "document from a server path",
        req("POST", "/documents/a1", json={"name": "/etc/passwd"}),
        (422,),
    ),
    Case(
        "setting over the body limit",
        req("PUT", "/settings/a1/k", json={"value": "x" * 1_100_000}),
        (413,),
    ),
    Case(
        "setting with unknown field",
        req("PUT", "/settings/a1/k", json={"value": 1, "actor": "root"}),
        (422,),
    ),
    Case(
        "victim document id",
        lambda a: {"method": "GET", "url": f"{API}/documents/{VICTIM_USER}/{uuid.uuid4()}"},
        (404,),
    ),
    # -- the inspector's routes ----------------------------------------------------------
    Case("unauthenticated user list", req("GET", "/users"), (401,), key="none"),
    Case("victim memory provenance", req("GET", "/memories/{victim}/provenance"), (404,)),
    Case(
        "unknown listing status",
        req("GET", "/memories", params={"user_id": "a1", "status": "active' OR '1'='1"}),
        (422,),
    ),
    Case(
        "text filter over the limit",
        req("GET", "/memories", params={"user_id": "a1", "contains": "x" * 1001}),
        (422,),
    ),
    Case(
        "status with as_of",
        req(
            "GET",
            "/memories",
            params={"user_id": "a1", "status": "deleted", "as_of": "2024-01-01T00:00:00Z"},
        ),
        (422,),
    ),
    Case("user page over the limit", req("GET", "/users", params={"limit": 201}), (422,)),
    Case("unknown queue status", req("GET", "/extractions", params={"status": "all"}), (422,)),
    Case(
        "extraction state of a non-uuid",
        req("GET", "/users/a1/extractions", params={"message_id": "1 OR 1=1"}),
        (422,),
    ),
    Case(
        "retry naming a tenant",
        req("POST", "/extractions/retry", json={"tenant_id": "beta"}),
        (422,),
    ),
    Case(
        "roll back the victim user's setting",
        req("POST", f"/settings/{VICTIM_USER}/codename/rollback", json={"to_version": 1}),
        (404,),
    ),
    Case(
        "rollback to version 0",
        req("POST", "/settings/a1/k/rollback", json={"to_version": 0}),
        (422,),
    ),
    # -- routes and methods ----------------------------------------------------------
    Case("unknown route", req("GET", "/admin/tenants"), (404,)),
    Case("wrong method", req("PUT", "/memories", json=memory_body()), (405,)),
]

ISOLATED: list[Case] = [
    Case("victim user's settings", req("GET", f"/settings/{VICTIM_USER}"), (200,)),
    Case("victim user's setting", req("GET", f"/settings/{VICTIM_USER}/codename"), (404,)),
    Case("victim user's documents", req("GET", f"/documents/{VICTIM_USER}"), (200,)),
    Case(
        "search victim user's documents",
        req("POST", f"/documents/{VICTIM_USER}/search", json={"query": "launch code"}),
        (200,),
    ),
    Case(
        "search victim's user id",
        req("POST", f"/memories/{VICTIM_USER}/search", params={"query": "launch code"}),
        (200,),
    ),
    Case("list victim's user id", req("GET", "/memories", params={"user_id": VICTIM_USER}), (200,)),
    Case("stats of victim's user id", req("GET", f"/memories/{VICTIM_USER}/stats"), (200,)),
    Case("export victim's user id", req("GET", f"/users/{VICTIM_USER}/export"), (200,)),
    Case("erase victim's user id", req("DELETE", f"/memories/{VICTIM_USER}/all"), (200,)),
    Case(
        "import claiming the victim tenant",
        lambda a: {
            "method": "POST",
            "url": f"{API}/users/{VICTIM_USER}/import",
            "content": b'{"type": "row", "table": "memories",'
            b' "data": {"content": "planted", "tenant_id": "beta"}}\n',
        },
        (200,),
    ),
    Case("list the tenant's users", req("GET", "/users"), (200,)),
    Case("victim user's sessions", req("GET", f"/users/{VICTIM_USER}/sessions"), (200,)),
    Case(
        "victim user's deleted memories",
        req("GET", "/memories", params={"user_id": VICTIM_USER, "status": "deleted"}),
        (200,),
    ),
    Case(
        "victim user's memories as of a date",
        req("GET", "/memories", params={"user_id": VICTIM_USER, "as_of": "2100-01-01T00:00:00Z"}),
        (200,),
    ),
    Case("the extraction queue", req("GET", "/extractions"), (200,)),
    Case("retry every failed extraction", req("POST", "/extractions/retry"), (200,)),
    Case(
        "retry the victim user's extractions",
        req("POST", "/extractions/retry", json={"user_id": VICTIM_USER}),
        (200,),
    ),
    Case(
        "sql in content",
        req("POST", "/memories", json=memory_body(content="'; DELETE FROM memories; --")),
        (201,),
    ),
    Case(
        "sql in query",
        req("POST", f"/memories/{VICTIM_USER}/search", params={"query": "' OR 1=1 --"}),
        (200,),
    ),
    Case(
        "sql in user id",
        req("POST", "/memories/x' OR tenant_id='beta/search", params={"query": "launch code"}),
        (200,),
    ),
]


@pytest.fixture(scope="module")
async def arena(server_url: str, template_url: str, embedder: Any) -> AsyncIterator[Arena]:
    with copied_database(server_url, template_url, "mnemo_attack") as url:
        async with attack_service(url, embedder) as (service, keys):
            yield await victim_arena(service, keys)


async def victim_arena(service: Service, keys: dict[str, str]) -> Arena:
    """The victim tenant's secrets, stored through the API with its key (a memory of
    ``VICTIM_USER`` and one of ``a1``, a setting, a document): the attacks' arena."""
    async with service.client(keys["victim"]) as victim:
        created = await victim.post(
            f"{API}/memories", json={"user_id": VICTIM_USER, "content": SECRET}
        )
        assert created.status_code == 201, created.text
        for response in (
            await victim.post(
                f"{API}/memories", json={"user_id": "a1", "content": SECRET + " (a1)"}
            ),
            await victim.put(f"{API}/settings/{VICTIM_USER}/codename", json={"value": SECRET}),
            await victim.post(
                f"{API}/documents/{VICTIM_USER}",
                json={"name": "plan.md", "content": f"The launch code is {SECRET}."},
            ),
        ):
            assert response.status_code < 300, response.text
    memory_id = created.json()["id"]
    return Arena(service, keys["attacker"], keys["revoked"], memory_id, service.database_url)


# Access statistics and key use times change on reads by design; everything else must not.
DIGEST = """
SELECT count(*), md5(coalesce(string_agg(
    (to_jsonb(t) - 'last_used_at' - 'access_count' - 'last_accessed_at')::text, '|'
    ORDER BY (to_jsonb(t))::text), '')) FROM {} t {}
"""


def snapshot(url: str, tenant: str | None = None) -> dict[str, str]:
    """A digest of every table's rows (of one tenant, if given); last_used_at left out."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id'"
                " AND table_schema = current_schema() ORDER BY 1"
            ).fetchall()
        ]
        digests = {}
        for table in tables:
            where = (
                psycopg.sql.SQL("WHERE tenant_id = {}").format(psycopg.sql.Literal(tenant))
                if tenant
                else psycopg.sql.SQL("")
            )
            statement = psycopg.sql.SQL(DIGEST).format(psycopg.sql.Identifier(table), where)
            row = conn.execute(statement).fetchone()
            digests[table] = f"{row[0]}:{row[1]}"
    return digests


async def attack(arena: Arena, case: Case) -> Any:
    keys = {
        "attacker": arena.attacker_key,
        "revoked": arena.revoked_key,
        "none": None,
        "forged": arena.attacker_key[:16] + "A" * 43,
    }
    key = keys.get(case.key, case.key)
    request = case.request(arena)
    headers = {**request.pop("headers", {}), **case.headers}
    async with arena.service.client(key) as client:
        return await client.request(headers=headers, **request)


@pytest.mark.parametrize("case", REJECTED, ids=[c.name for c in REJECTED])
async def test_rejected_with_a_clear_4xx_and_nothing_changed(arena: Arena, case: Case) -> None:
    await arena.service.app.state.mnemo.engine.flush()
    before = snapshot(arena.database_url)
    response = await attack(arena, case)
    await arena.service.app.state.mnemo.engine.flush()
    assert response.status_code in case.statuses, response.text[:300]
    error = response.json()["error"]
    assert error["type"] and error["message"]
    assert SECRET not in response.text
    assert snapshot(arena.database_url) == before


@pytest.mark.parametrize("case", ISOLATED, ids=[c.name for c in ISOLATED])
async def test_other_tenants_user_ids_reach_nothing_of_theirs(arena: Arena, case: Case) -> None:
    await arena.service.app.state.mnemo.engine.flush()
    before = snapshot(arena.database_url, "beta")
    response = await attack(arena, case)
    await arena.service.app.state.mnemo.engine.flush()
    assert response.status_code in case.statuses, response.text[:300]
    assert SECRET not in response.text
    assert snapshot(arena.database_url, "beta") == before


#: Requests of the local mode (no keys) as a web page could make them, and what they get
#: when nothing is wrong with their Host and Origin.
LOCAL_REQUESTS = [
    ("POST", f"{API}/memories", {"json": {"user_id": "alice", "content": "rebound " + SECRET}},
     201),
    ("GET", f"{API}/memories", {"params": {"user_id": "alice"}}, 200),
    ("POST", f"{API}/context", {"json": {"user_id": "alice", "query": "launch code?"}}, 200),
    ("GET", "/ui/", {}, 200),
    ("GET", "/metrics", {}, 200),
    *([("POST", "/mcp", {"headers": {"Accept": "application/json, text/event-stream",
                                      "X-Mnemo-User": "alice"},
                          "json": {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}}, 200)]
      if importlib.util.find_spec("mcp") else []),
]  # fmt: skip
FOREIGN = [
    ({"Host": "evil.example"}, 421),  # DNS rebinding: the page's own name, now 127.0.0.1
    ({"Host": "rebound.attacker.net:8000"}, 421),
    ({"Host": "127.0.0.1.evil.example"}, 421),
    ({"Host": "evil.example@127.0.0.1:8000"}, 421),
    ({"Host": "127.0.0.1:8000", "Origin": "http://evil.example"}, 403),  # cross-site
    ({"Host": "localhost:8000", "Origin": "https://evil.example:8000"}, 403),
    ({"Host": "localhost:8000", "Origin": "null"}, 403),  # a sandboxed frame, a file
]
LOOPBACK = [
    {"Host": "127.0.0.1:8000", "Origin": "http://localhost:3000"},
    {"Host": "localhost:8000"},
    {"Host": "[::1]:8000", "Origin": "http://[::1]:8000"},
]


async def test_the_unauthenticated_local_mode_answers_loopback_requests_only(
    database_url: str, embedder: Any
) -> None:
    """Without API keys (the embedded local default) a web page the user visits must
    reach nothing — REST, inspector, metrics, MCP — through DNS rebinding or a
    cross-site request; loopback requests work."""
    settings = ServiceSettings(auth="none", rate_limit_rps=0)
    assert settings.auth_mode() == "none"
    app = create_app(settings, config=service_config(database_url, embedder))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            for method, path, options, allowed in LOCAL_REQUESTS:
                for headers, refused in FOREIGN:
                    sent = {**options, "headers": {**options.get("headers", {}), **headers}}
                    response = await c.request(method, path, **sent)
                    assert response.status_code == refused, (path, headers, response.text[:200])
                    assert response.json()["error"]["type"] == "Forbidden"
                    assert SECRET not in response.text
                listed = await c.get(f"{API}/memories", params={"user_id": "alice"})
                assert listed.json()["items"] == []  # no refused write went through
                for headers in LOOPBACK:
                    sent = {**options, "headers": {**options.get("headers", {}), **headers}}
                    response = await c.request(method, path, **sent)
                    assert response.status_code == allowed, (path, headers, response.text[:200])
                await c.delete(f"{API}/memories/alice/all")


def test_the_suite_counts_its_cases() -> None:
    assert len(REJECTED) + len(ISOLATED) >= 80
