"""The framework extras install no torch, GPU wheels or other machine-learning stacks.

Each extra's requirements, as pyproject.toml declares them, are followed through the
installed distributions' own metadata (the test extra installs all four frameworks),
transitively. A framework release that starts to depend on torch, CUDA/NVIDIA wheels,
triton, TensorFlow or JAX fails here instead of on a user's machine; what each extra
adds is listed in docs/integrations.md.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import repo_root

FRAMEWORK_EXTRAS = ("langchain", "langgraph", "openai-agents", "llamaindex")
#: Distributions that would make an extra a machine-learning install.
HEAVY = re.compile(
    r"^(torch(vision|audio)?|triton|tensorflow.*|jax|jaxlib|nvidia-.*|cuda-.*|cupy.*|"
    r"onnxruntime-gpu|transformers|sentence-transformers|accelerate|scipy|scikit-learn)$"
)


def declared(extra: str) -> list[Requirement]:
    pyproject = tomllib.loads((repo_root() / "pyproject.toml").read_text())
    return [Requirement(text) for text in pyproject["project"]["optional-dependencies"][extra]]


def installed_closure(roots: list[Requirement]) -> set[str]:
    """Every distribution ``roots`` bring in on this platform (names canonical)."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or name == "mnemo":
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            pytest.fail(f"{name} (needed by an extra) is not installed: pip install -e '.[test]'")
        wanted = {""} | set(requirement.extras)
        for text in requires:
            child = Requirement(text)
            marker = child.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in wanted):
                pending.append(child)
    return seen


@pytest.mark.parametrize("extra", FRAMEWORK_EXTRAS)
def test_a_framework_extra_pulls_no_torch_or_gpu_packages(extra: str) -> None:
    brought = installed_closure(declared(extra))
    framework = {r.name for r in declared(extra)}
    assert framework <= brought
    assert sorted(name for name in brought if HEAVY.match(name)) == []
