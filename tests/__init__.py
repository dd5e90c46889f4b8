"""ESS tests."""
