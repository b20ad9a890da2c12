"""The library's and the service's public API tests and the tenant wall's, run unchanged
on the cluster (the service as its own role, mnemo_service, under row-level security).

The test functions are imported from their suites; pytest collects them here, where
``database_url`` is the shared distributed database (see conftest.py), so each one runs
against a coordinator whose user-scoped rows live on two workers.
"""

from __future__ import annotations

import pytest

from tests.integration.test_memory_api import *  # noqa: F403
from tests.service.conftest import service, start_service  # noqa: F401
from tests.service.test_api import *  # noqa: F403
from tests.service.test_tenant_wall import *  # noqa: F403

pytestmark = pytest.mark.citus
