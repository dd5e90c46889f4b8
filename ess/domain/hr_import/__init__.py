"""HR import: employee records from the HR system's file land in the HR records, all valid or nothing, keeping what
employees changed in ESS while the HR system has not caught up."""
