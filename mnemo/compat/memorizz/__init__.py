"""Memorizz's PostgreSQL memory provider, on mnemo: change the import prefix only.

from mnemo.compat.memorizz.memory_provider.postgresql import (
    PostgreSQLConfig, PostgreSQLProvider)
from mnemo.compat.memorizz.memory_provider.memory_type import MemoryType
"""
