"""Test harness: throwaway external services (PostgreSQL, ...) started by the tests themselves."""
