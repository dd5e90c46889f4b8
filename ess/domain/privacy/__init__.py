"""Data protection and accountability: the audit trail (role-scoped viewer, hash-chain check), everything ESS holds
about a person (GDPR Art. 15/20), retention and deletion, and the last run of each daily job."""
