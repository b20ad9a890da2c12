"""The worker face: ``mnemo worker`` runs mnemo's durable jobs against a database.

Job definitions live in :mod:`mnemo.lifecycle.jobs` (below the engine, so the
engine can run the same worker in-process when embedded); this package is the
entry point that runs one as a process of its own.
"""

from mnemo.worker.main import run_worker

__all__ = ["run_worker"]
