"""SQL storage: tables, repositories and the unit of work (SQLite embedded, PostgreSQL in production)."""
