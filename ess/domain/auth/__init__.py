"""Authentication: logins, sessions, API tokens and the roles of the caller."""
