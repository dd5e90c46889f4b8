"""HR records: employees, org units and role assignments, and the import from HR files."""
