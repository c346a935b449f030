"""Request parameter types shared by routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Ids are 32-bit on every database: a larger one can name nothing, so it is a 422, not a
# database overflow.
ID_MAX = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=ID_MAX)]
