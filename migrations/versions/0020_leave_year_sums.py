"""Leave year sums: per employee and leave year, the ledger summed by what each entry means, kept by the database.

The HR report's totals were one pass over the year's ledger (143,000 entries for 10,000 employees); from these
rows they are a sum over one row per employee. Triggers keep the rows in the transaction of every ledger and
bucket write (the app's bookings, imports, erasure, the demo seed, bulk loads alike), so nothing can forget them.
Bookings and expiries are kept per month of the leave year (slot 1-12; 0 before the year, 13 after it): the report
splits them at its date, reading from the ledger only the entries of that date's month on one side of it (found
by the new index on the entries' dates).

The meaning of the entry types is written out here as `reports.py` reads the ledger (`_figures`); the tests
compare these rows with a recount of the ledger after every kind of write.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:30:00.000000
"""

# ruff: noqa: S608 - the SQL here is built from the fixed names and constants of this file
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = range(14)
_ENTITLEMENT_TYPES = "('adjust', 'grant', 'pro_rata_grant', 'recalc')"
_ENTITLEMENT_KINDS = "('statutory', 'contractual', 'special')"
_CARRY_TYPES = "('carry_in', 'adjust')"
_BOOKING_TYPES = "('take', 'reverse')"
_EXPIRY_TYPES = "('expire', 'carry_out')"
_GRANT_KINDS = "('statutory', 'contractual')"


def _columns() -> list[sa.Column[object]]:
    money = {"type_": sa.Numeric(14, 2), "nullable": False, "server_default": "0"}
    return [
        sa.Column("entitlement", **money),
        sa.Column("carried_over", **money),
        *(sa.Column(f"bookings_{slot:02d}", **money) for slot in SLOTS),
        *(sa.Column(f"expiries_{slot:02d}", **money) for slot in SLOTS),
    ]


def _slot(day: str, year: str, dialect: str) -> str:
    """The slot of an entry's date in its bucket's leave year, as SQL."""
    if dialect == "postgresql":
        entry_year, month = f"extract(year FROM {day})", f"extract(month FROM {day})::integer"
    else:  # SQLite keeps dates as ISO text
        entry_year, month = f"CAST(substr({day}, 1, 4) AS INTEGER)", f"CAST(substr({day}, 6, 2) AS INTEGER)"
    return f"(CASE WHEN {entry_year} < {year} THEN 0 WHEN {entry_year} > {year} THEN 13 ELSE {month} END)"


def _sums(amount: str, slot: str, entry_type: str, kind: str) -> list[tuple[str, str]]:
    """(column, SQL of the part of `amount` the column takes) for every money column."""
    entitlement = f"{entry_type} IN {_ENTITLEMENT_TYPES} AND {kind} IN {_ENTITLEMENT_KINDS}"
    carried = f"{entry_type} IN {_CARRY_TYPES} AND {kind} = 'carryover'"
    booking, expiry = f"{entry_type} IN {_BOOKING_TYPES}", f"{entry_type} IN {_EXPIRY_TYPES}"
    return [
        ("entitlement", f"CASE WHEN {entitlement} THEN {amount} ELSE 0 END"),
        ("carried_over", f"CASE WHEN {carried} THEN {amount} ELSE 0 END"),
        *((f"bookings_{s:02d}", f"CASE WHEN {booking} AND {slot} = {s} THEN {amount} ELSE 0 END") for s in SLOTS),
        *((f"expiries_{s:02d}", f"CASE WHEN {expiry} AND {slot} = {s} THEN {amount} ELSE 0 END") for s in SLOTS),
    ]


def upgrade() -> None:
    op.create_table(
        "leave_year_sums",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("leave_year", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False, server_default=sa.false()),
        *_columns(),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_leave_year_sums_employee_id_employees"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("employee_id", "leave_year", name=op.f("pk_leave_year_sums")),
        sqlite_with_rowid=False,
    )
    # The totals split the report date's month at the date: a few days of everyone's entries, found by date.
    op.create_index("ix_leave_ledger_effective_date", "leave_ledger", ["effective_date"])
    dialect = op.get_bind().dialect.name
    _fill(dialect)
    if dialect == "postgresql":
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _fill(dialect: str) -> None:
    """The rows of what the ledger already holds."""
    slot = _slot("l.effective_date", "b.leave_year", dialect)
    sums = _sums("l.amount", slot, "l.entry_type", "b.kind")
    op.execute(
        f"INSERT INTO leave_year_sums (employee_id, leave_year, granted, {', '.join(c for c, _ in sums)}) "
        f"SELECT b.employee_id, b.leave_year, max(CASE WHEN b.kind IN {_GRANT_KINDS} THEN 1 ELSE 0 END) = 1, "
        f"{', '.join(f'coalesce(sum({expression}), 0)' for _, expression in sums)} "
        "FROM leave_buckets b LEFT JOIN leave_ledger l ON l.bucket_id = b.id AND l.employee_id = b.employee_id "
        "GROUP BY b.employee_id, b.leave_year"
    )


def _sqlite_triggers() -> None:
    for event, row, sign in (("INSERT", "NEW", ""), ("DELETE", "OLD", "-")):
        bucket = f"(SELECT {{}} FROM leave_buckets WHERE id = {row}.bucket_id AND employee_id = {row}.employee_id)"
        slot = _slot(f"{row}.effective_date", "leave_year", "sqlite")
        sums = _sums(f"{sign}{row}.amount", slot, f"{row}.entry_type", bucket.format("kind"))
        op.execute(
            f"CREATE TRIGGER leave_year_sums_ledger_{event.lower()} AFTER {event} ON leave_ledger BEGIN "
            f"UPDATE leave_year_sums SET {', '.join(f'{c} = {c} + {e}' for c, e in sums)} "
            f"WHERE employee_id = {row}.employee_id AND leave_year = {bucket.format('leave_year')}; END"
        )
    op.execute(
        "CREATE TRIGGER leave_year_sums_bucket_insert AFTER INSERT ON leave_buckets BEGIN "
        "INSERT OR IGNORE INTO leave_year_sums (employee_id, leave_year) VALUES (NEW.employee_id, NEW.leave_year); "
        f"UPDATE leave_year_sums SET granted = 1 WHERE NEW.kind IN {_GRANT_KINDS} "
        "AND employee_id = NEW.employee_id AND leave_year = NEW.leave_year; END"
    )
    op.execute(
        "CREATE TRIGGER leave_year_sums_bucket_delete AFTER DELETE ON leave_buckets BEGIN "
        "UPDATE leave_year_sums SET granted = EXISTS (SELECT 1 FROM leave_buckets b "
        f"WHERE b.employee_id = OLD.employee_id AND b.leave_year = OLD.leave_year AND b.kind IN {_GRANT_KINDS}) "
        "WHERE employee_id = OLD.employee_id AND leave_year = OLD.leave_year; END"
    )
    op.execute(
        "CREATE TRIGGER leave_year_sums_bucket_fixed BEFORE UPDATE OF employee_id, kind, leave_year ON leave_buckets "
        "BEGIN SELECT RAISE(ABORT, 'a leave bucket''s employee, kind and year are fixed'); END"
    )


def _postgres_triggers() -> None:
    # Statement-level with transition tables: a bulk insert of entries is one upsert per statement, not per row.
    slot = _slot("l.effective_date", "b.leave_year", "postgresql")
    for event, rows, sign in (("INSERT", "added", ""), ("DELETE", "removed", "-")):
        sums = _sums(f"{sign}l.amount", slot, "l.entry_type", "b.kind")
        columns = ", ".join(c for c, _ in sums)
        op.execute(
            f"""
            CREATE FUNCTION leave_year_sums_ledger_{event.lower()}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO leave_year_sums AS s (employee_id, leave_year, {columns})
                SELECT b.employee_id, b.leave_year, {", ".join(f"sum({e})" for _, e in sums)}
                FROM {rows} l JOIN leave_buckets b ON b.id = l.bucket_id AND b.employee_id = l.employee_id
                GROUP BY b.employee_id, b.leave_year
                ON CONFLICT (employee_id, leave_year) DO UPDATE SET
                    {", ".join(f"{c} = s.{c} + EXCLUDED.{c}" for c, _ in sums)};
                RETURN NULL;
            END;
            $$
            """
        )
        op.execute(
            f"CREATE TRIGGER leave_year_sums_ledger_{event.lower()} AFTER {event} ON leave_ledger "
            f"REFERENCING {'NEW' if event == 'INSERT' else 'OLD'} TABLE AS {rows} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION leave_year_sums_ledger_{event.lower()}()"
        )
    op.execute(
        f"""
        CREATE FUNCTION leave_year_sums_bucket_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO leave_year_sums AS s (employee_id, leave_year, granted)
            SELECT employee_id, leave_year, bool_or(kind IN {_GRANT_KINDS}) FROM added GROUP BY employee_id, leave_year
            ON CONFLICT (employee_id, leave_year) DO UPDATE SET granted = s.granted OR EXCLUDED.granted;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER leave_year_sums_bucket_insert AFTER INSERT ON leave_buckets REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION leave_year_sums_bucket_insert()"
    )
    op.execute(
        f"""
        CREATE FUNCTION leave_year_sums_bucket_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE leave_year_sums s SET granted = EXISTS (
                SELECT 1 FROM leave_buckets b
                WHERE b.employee_id = s.employee_id AND b.leave_year = s.leave_year AND b.kind IN {_GRANT_KINDS}
            )
            WHERE (s.employee_id, s.leave_year) IN (SELECT employee_id, leave_year FROM removed);
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER leave_year_sums_bucket_delete AFTER DELETE ON leave_buckets REFERENCING OLD TABLE AS removed "
        "FOR EACH STATEMENT EXECUTE FUNCTION leave_year_sums_bucket_delete()"
    )
    op.execute(
        """
        CREATE FUNCTION leave_year_sums_bucket_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a leave bucket''s employee, kind and year are fixed';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER leave_year_sums_bucket_fixed BEFORE UPDATE OF employee_id, kind, leave_year ON leave_buckets "
        "FOR EACH ROW EXECUTE FUNCTION leave_year_sums_bucket_fixed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in (
            ("leave_year_sums_ledger_insert", "leave_ledger"),
            ("leave_year_sums_ledger_delete", "leave_ledger"),
            ("leave_year_sums_bucket_insert", "leave_buckets"),
            ("leave_year_sums_bucket_delete", "leave_buckets"),
            ("leave_year_sums_bucket_fixed", "leave_buckets"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in (
            "leave_year_sums_ledger_insert",
            "leave_year_sums_ledger_delete",
            "leave_year_sums_bucket_insert",
            "leave_year_sums_bucket_delete",
            "leave_year_sums_bucket_fixed",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_leave_ledger_effective_date", table_name="leave_ledger")
    op.drop_table("leave_year_sums")
