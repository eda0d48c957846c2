"""The ledgers name their tables (the ledger package imports no domain model): every column
they name is a column of that table, of the same kind, and the key is unique with seq."""

from __future__ import annotations

import pytest
from sqlalchemy import UniqueConstraint, Uuid

from teleconsult.db.models import Base
from teleconsult.ledger.tables import LEDGERS, Ledger


@pytest.mark.parametrize("ledger", LEDGERS, ids=[ledger.name for ledger in LEDGERS])
def test_a_ledger_names_its_table_as_it_is(ledger: Ledger) -> None:
    table = Base.metadata.tables[ledger.table.name]
    for column in ledger.table.c:
        model = table.c[column.name]
        assert type(column.type)._type_affinity is type(model.type)._type_affinity, column.name
        assert isinstance(column.type, Uuid) == isinstance(model.type, Uuid), column.name
    assert {ledger.key_column.name, "seq"} in [
        {c.name for c in constraint.columns}
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    assert set(ledger.columns) <= set(ledger.table.c.keys())
    assert ledger.uuids == {c for c in ledger.columns if isinstance(table.c[c].type, Uuid)}
