"""Several small reads in one statement: a `UNION ALL` whose branches are padded to one row shape.

Each part is a list of columns and a filter. Every branch selects a tag (the part's index) and the columns of every
part: its own, and typed NULLs in place of the others', so each column position has one type on every database
(SQLAlchemy takes the result types from the first branch). `split` cuts the rows back into one list per part.
One statement instead of one per part: one round trip to the database (with aiosqlite, each is a hop to its thread).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Integer, cast, literal, null, select, union_all


def padded_union(
    parts: Sequence[tuple[Sequence[ColumnElement[Any]], Sequence[ColumnElement[bool]]]],
) -> CompoundSelect[Any]:
    """One `UNION ALL` of the parts (columns, filter); build it once and run it with bound parameters."""
    branches = []
    for index, (_own, where) in enumerate(parts):
        columns: list[ColumnElement[Any]] = [literal(index, Integer).label("part")]
        for other, (theirs, _where) in enumerate(parts):
            columns += [
                (column if other == index else cast(null(), column.type)).label(f"p{other}_{position}")
                for position, column in enumerate(theirs)
            ]
        branches.append(select(*columns).where(*where))
    return union_all(*branches)


def split(rows: Iterable[Sequence[Any]], widths: Sequence[int]) -> list[list[tuple[Any, ...]]]:
    """The rows of `padded_union` as one list of plain tuples per part (in the order the database sent them)."""
    starts = [1]
    for width in widths[:-1]:
        starts.append(starts[-1] + width)
    result: list[list[tuple[Any, ...]]] = [[] for _ in widths]
    for row in rows:
        part = row[0]
        start = starts[part]
        result[part].append(tuple(row[start : start + widths[part]]))
    return result
