"""The library's public API tests and the tenant wall's, run unchanged on the cluster.

The test functions are imported from their suites; pytest collects them here, where
``database_url`` is the shared distributed database (see conftest.py), so each one runs
against a coordinator whose user-scoped rows live on two workers.
"""

from __future__ import annotations

import pytest

from tests.integration.test_memory_api import *  # noqa: F403
from tests.service.test_tenant_wall import *  # noqa: F403

pytestmark = pytest.mark.citus
