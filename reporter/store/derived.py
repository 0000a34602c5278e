"""Keeping what the report rests on: the assessment's derived tables (`a_*`) are written to the
store's database, which with `--db` is the user's file, so an auditor's queries
(docs/evidence-store.md) read the ledger, instances, deadlines and exception scopes the results
were computed from, not a re-implementation of them. A few small helper tables of the exports are
temporary: they are copied into the file here, and the derived views recreated."""

from __future__ import annotations

import duckdb

from reporter.store.sql import ident

# Views over derived tables, recreated in the file: (name, definition over the kept tables).
_VIEWS = (("a_instances", "SELECT * FROM a_ledger"),)


def keep_derived(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Copy every temporary `a_*` table into the database file (replacing an earlier copy) and
    recreate the derived views; return the names copied or recreated, in order."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'a_') ORDER BY table_name"
    ).fetchall()
    kept = []
    for (name,) in rows:
        table = ident(str(name))
        con.execute(f"CREATE OR REPLACE TABLE main.{table} AS SELECT * FROM temp.main.{table}")
        kept.append(str(name))
    for name, definition in _VIEWS:
        if name not in kept:
            con.execute(f"CREATE OR REPLACE VIEW main.{ident(name)} AS {definition}")
            kept.append(name)
    return kept
