"""The JSON API under /api/v1: msgspec structs in and out, problem+json errors, bearer tokens."""
