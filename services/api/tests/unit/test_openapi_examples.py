"""The OpenAPI document is complete: every operation says what it does, every parameter is
described with an example (or a closed set of values), every success response has an example,
and every example is a valid instance of its own model."""

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from pydantic import BaseModel

from tickwire_api import models
from tickwire_api.app import create_app
from tickwire_api.models.examples import example
from tickwire_api.models.ticks import Tick
from tickwire_api.settings import ApiSettings

SETTINGS = ApiSettings(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", allow_anonymous=True)
DOC = create_app(SETTINGS).openapi()
SCHEMAS = DOC["components"]["schemas"]
OPERATIONS = [
    (f"{method.upper()} {path}", op)
    for path, ops in DOC["paths"].items()
    for method, op in ops.items()
]
MODELS = [
    cls
    for module in (
        importlib.import_module(f"{models.__name__}.{found.name}")
        for found in pkgutil.iter_modules(models.__path__)
    )
    for _, cls in inspect.getmembers(module, inspect.isclass)
    if issubclass(cls, BaseModel) and cls.__module__ == module.__name__
] + [Tick]


def closed(schema: dict[str, Any]) -> bool:
    """A parameter whose values are listed (an enum, a boolean) needs no example."""
    options = schema.get("anyOf", [schema])
    return all("enum" in o or "$ref" in o or o.get("type") in ("boolean", "null") for o in options)


def has_example(content: dict[str, Any]) -> bool:
    if "example" in content or "examples" in content:
        return True
    ref = content.get("schema", {}).get("$ref", "")
    schema = SCHEMAS.get(ref.rsplit("/", 1)[-1], {})
    return bool(schema.get("examples"))


@pytest.mark.parametrize(("name", "op"), OPERATIONS, ids=[name for name, _ in OPERATIONS])
def test_every_operation_is_described_with_examples(name: str, op: dict[str, Any]) -> None:
    assert op.get("summary"), name
    for parameter in op.get("parameters", []):
        schema = parameter.get("schema", {})
        assert parameter.get("description") or schema.get("description"), (name, parameter)
        if not closed(schema):
            # FastAPI puts a Query's examples into its schema (OpenAPI 3.1 JSON Schema).
            shown = {"example", "examples"} & (set(parameter) | set(schema))
            assert shown, (name, parameter["name"])
    ok = op["responses"].get("200")
    assert ok is not None, name
    for media, content in ok.get("content", {}).items():
        if media == "application/vnd.apache.parquet":
            continue  # binary: described, not shown
        assert has_example(content), (name, media)


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_every_models_example_is_a_valid_instance(model: type[BaseModel]) -> None:
    try:
        sample = example(model)
    except LookupError:
        pytest.fail(f"{model.__name__} declares no example")
    assert model.model_validate(sample) is not None
    # Serialized back, it is the example again (no field silently dropped or renamed).
    dumped = model.model_validate(sample).model_dump(mode="json", by_alias=True)
    assert set(sample) <= set(dumped)
