"""Which columns of the store are written uncompressed, and the statement that writes a derived table
so (D115, D116).

DuckDB compresses every column of the store's file as it writes it, strings with `dict_fsst`. For
identifiers, which are mostly distinct, that is most of the compression's CPU and saves little room.
A store whose evidence is small against its memory limit (`EvidenceStore.small`, D117) keeps them
uncompressed: the evidence tables (`store._storage`), the gaps (`checks.base.gaps_ddl`) and the
derived tables (`create_table_as`). Larger stores keep DuckDB's choice, which holds their peak down.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from reporter.store.sql import ident

UNCOMPRESSED = "USING COMPRESSION uncompressed"

_ID_SUFFIXES = ("_id", "_ids", "_ref", "_refs")
_TEXT_TYPES = ("VARCHAR", "VARCHAR[]")
_CREATE_AS = re.compile(r"\s*CREATE OR REPLACE TABLE ([A-Za-z_][A-Za-z0-9_]*) AS\b(.*)", re.S)


def is_identifier(name: str) -> bool:
    """`id`, `*_id`, `*_ids`, `*_ref`, `*_refs`: the columns kept uncompressed in a plain store."""
    return name == "id" or name.endswith(_ID_SUFFIXES)


def plain_clause(name: str, *, text: bool) -> str:
    """The storage clause of a column of a plain store: uncompressed for a text identifier, else
    nothing (DuckDB chooses)."""
    return f" {UNCOMPRESSED}" if text and is_identifier(name) else ""


def create_table_as(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], *, plain: bool) -> None:
    """Run `sql`. With `plain`, a `CREATE OR REPLACE TABLE name AS query` statement is run as a table
    declared from the query's own columns (DuckDB's DESCRIBE, which plans it without running it), its
    text identifiers uncompressed, then filled by the query: the same columns, types and rows. Any
    other statement, and every statement without `plain`, runs as it is."""
    found = _CREATE_AS.fullmatch(sql) if plain else None
    if found is None:
        con.execute(sql, params)
        return
    name, query = found.groups()
    described = con.execute(f"DESCRIBE {query}", params).fetchall()
    columns = ", ".join(
        f"{ident(column)} {kind}{plain_clause(column, text=kind in _TEXT_TYPES)}" for column, kind, *_ in described
    )
    con.execute(f"CREATE OR REPLACE TABLE {name} ({columns})")
    con.execute(f"INSERT INTO {name} {query}", params)
