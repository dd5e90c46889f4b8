"""The fictional demo company (company.csv in the HR import format)."""
