"""Bounds on values that arrive from outside (addresses, forms, API bodies), so that none
reaches the database out of range.

The annotated types carry their bounds as `annotated_types` metadata, which FastAPI and
pydantic both read: one type serves a path parameter, a query parameter and a field of a
JSON body, and the OpenAPI schema shows the range.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

# The largest id both databases can hold. Every id column is an INTEGER: signed 32-bit in
# PostgreSQL, 64-bit in SQLite. A larger number fails the query instead of finding nothing
# (PostgreSQL: "integer out of range"; SQLite's driver: OverflowError past 64 bits), so it is
# refused before any query is built.
MAX_ID = 2**31 - 1

# An id given by a client. The web layer answers an id out of range in the address with 404,
# as for a missing object, and one in a query filter or a body with 422.
Id = Annotated[int, Ge(1), Le(MAX_ID)]
