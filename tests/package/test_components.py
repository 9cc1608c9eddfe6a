"""The program deploys the built artifacts: the offline plan of a tenant stack names them."""

from __future__ import annotations

import pytest

from platformctl.package import program_artifacts
from tests.components.conftest import PlanStore
from ubertruck.artifacts import LambdaArtifacts, program_path

from .conftest import DEFAULTS

FUNCTION = "aws:lambda/function:Function"
LAYER = "aws:lambda/layerVersion:LayerVersion"


@pytest.fixture(scope="module")
def artifacts() -> LambdaArtifacts:
    # What __main__.py deploys: the platform architecture's build in the project's build folder.
    return program_artifacts(DEFAULTS)


@pytest.fixture(scope="module")
def plan(artifacts: LambdaArtifacts, tmp_path_factory: pytest.TempPathFactory):
    return PlanStore(None, tmp_path_factory).plan("acme-dev")


def test_every_function_deploys_its_packaged_zip_beside_its_fallback(plan, artifacts: LambdaArtifacts) -> None:
    functions = plan.of_type(FUNCTION)
    assert functions
    deployed = set()
    for function in functions:
        handler = function.inputs["handler"]
        name = handler.removesuffix(".lambda_handler")
        deployed.add(name)
        code = function.inputs["code"]["archive"]
        assert code == {".": {"archive": program_path(artifacts.function_zip(name))}, "fallback.json": {"asset": "text"}}
        assert function.inputs["architectures"] == [artifacts.architecture]
    # Exactly what the program deploys is built, and nothing else.
    assert deployed == set(artifacts.functions)


def test_the_layer_is_the_built_layer_zip(plan, artifacts: LambdaArtifacts) -> None:
    (layer,) = plan.of_type(LAYER)
    assert layer.inputs["code"] == {"archive": program_path(artifacts.layer)}
    assert layer.inputs["compatibleArchitectures"] == [artifacts.architecture]
