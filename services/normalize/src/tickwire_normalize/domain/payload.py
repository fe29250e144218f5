"""A raw record's payload as the mappings read it: JSON, or a reject that says why not."""

from __future__ import annotations

import json
from typing import Any

from tickwire_core.errors import RejectedRecord
from tickwire_normalize.domain import reasons


def json_payload(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, f"payload is not JSON: {exc}") from None
    except RecursionError:
        raise RejectedRecord(reasons.UNDECODABLE_PAYLOAD, "payload nested too deeply") from None
