"""The error body /v1/live answers with when it cannot stream (503), as a model whose example
the OpenAPI tests validate like every other."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tickwire_api.models.examples import examples


class Problem(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples({"detail": "live stream not configured"}))
    detail: str
