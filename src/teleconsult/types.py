"""Field types shared by the schemas of several packages."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator


def _iso_only(value: Any) -> Any:
    # pydantic would read "0.5" as a Unix timestamp; the API speaks ISO-8601 only.
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be an ISO-8601 date-time with offset")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
