"""Who runs extraction under `mnemo serve`: the service itself on the embedded default."""

from __future__ import annotations

from mnemo.config import LifecycleConfig, MnemoConfig
from mnemo.service.state import with_worker_default


def test_the_embedded_default_runs_its_worker_inside_the_service() -> None:
    config = with_worker_default(MnemoConfig())  # what `mnemo serve` builds with no variables
    assert config.database_url is None
    assert config.lifecycle.in_process_worker is True


def test_an_external_database_leaves_extraction_to_mnemo_worker() -> None:
    config = with_worker_default(MnemoConfig(database_url="postgresql://db.example/mnemo"))
    assert config.lifecycle.in_process_worker is False


def test_an_explicit_choice_is_kept() -> None:
    off = MnemoConfig(lifecycle=LifecycleConfig(in_process_worker=False))
    assert with_worker_default(off).lifecycle.in_process_worker is False
    external = MnemoConfig(
        database_url="postgresql://db.example/mnemo",
        lifecycle=LifecycleConfig(in_process_worker=True),
    )
    assert with_worker_default(external).lifecycle.in_process_worker is True
