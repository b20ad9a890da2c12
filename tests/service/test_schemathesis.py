"""schemathesis against the service's own OpenAPI spec, over HTTP to a real ``mnemo serve``.

Every generated request must be answered without a 5xx. The run is bounded
(``MAX_EXAMPLES`` per operation) so the suite stays fast on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from mnemo.service.app import create_app
from mnemo.service.settings import ServiceSettings
from tests.conftest import create_database, drop_database, with_database
from tests.service.conftest import PEPPER
from tests.service.test_serve import Server, free_port, run_cli, wait_until_ready

pytestmark = pytest.mark.slow
MAX_EXAMPLES = int(os.environ.get("MNEMO_SCHEMATHESIS_EXAMPLES", "12"))


@schemathesis.serializer("application/x-ndjson")
def _json_lines(context: object, value: object) -> bytes:
    """Generated bodies of the import route, sent as JSON Lines (one value a line)."""
    values = value if isinstance(value, list) else [value]
    return "".join(json.dumps(v) + "\n" for v in values).encode()


# The spec comes from the app itself; building the app connects to nothing.
schema = schemathesis.openapi.from_dict(
    create_app(ServiceSettings(auth="keys", database_url="postgresql://unused/spec")).openapi()
)


@pytest.fixture(scope="module")
def live_server(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    name = f"mnemo_fuzz_{uuid.uuid4().hex[:10]}"
    template = psycopg.conninfo.conninfo_to_dict(template_url)["dbname"]
    create_database(server_url, name, template=template)
    url = with_database(server_url, name)
    env = {
        **os.environ,
        "MNEMO_API_KEY_PEPPER": PEPPER,
        "MNEMO_AUTH": "keys",
        "MNEMO_DATABASE_URL": url,
        "MNEMO_RATE_LIMIT_RPS": "0",
    }
    key = run_cli("keys", "create", "--tenant", "fuzz", env=env).split()[0]
    port = free_port()
    log = tmp_path_factory.mktemp("fuzz") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnemo.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process, log)
        yield Server(process, base_url, key, url, Path(log))
    finally:
        process.terminate()
        process.wait(timeout=60)
        assert "Traceback" not in Path(log).read_text(), Path(log).read_text()[-3000:]
        drop_database(server_url, name)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_gets_a_server_error(
    case: schemathesis.Case, live_server: Server
) -> None:
    case.call_and_validate(
        base_url=live_server.base_url,
        headers={"Authorization": f"Bearer {live_server.key}"},
        checks=[not_a_server_error],
        timeout=60,
    )
