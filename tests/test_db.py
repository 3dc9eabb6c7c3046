"""The schema the migrations build is the schema the models declare, on every backend; times
are stored in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from sixfold.db import as_utc
from sixfold.models import metadata


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift = compare_metadata(context, metadata)
    assert drift == []


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_a_time_utc_cannot_express_is_named_not_an_overflow(moment: datetime) -> None:
    with pytest.raises(ValueError, match="beyond the dates UTC can express"):
        as_utc(moment)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2030, 1, 1))  # noqa: DTZ001 - naive on purpose
