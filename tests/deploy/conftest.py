"""The renderings of the manifests the deploy tests check alike: both kustomize overlays and the
chart with its defaults, the production example and the five-venue example."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.deploy.k8s_render import (
    FIVE_VENUES_VALUES,
    PRODUCTION_VALUES,
    Obj,
    helm_render,
    kustomize_build,
)

RENDERINGS: dict[str, Callable[[], tuple[Obj, ...]]] = {
    "kustomize-dev": lambda: kustomize_build("dev"),
    "kustomize-prod": lambda: kustomize_build("prod"),
    "helm-defaults": lambda: helm_render(),
    "helm-production": lambda: helm_render("-f", str(PRODUCTION_VALUES)),
    "helm-five-venues": lambda: helm_render("-f", str(FIVE_VENUES_VALUES)),
}


@pytest.fixture(params=sorted(RENDERINGS), scope="module")
def objects(request: pytest.FixtureRequest) -> tuple[Obj, ...]:
    """Each rendering in turn (a module's tests share it)."""
    return RENDERINGS[request.param]()
