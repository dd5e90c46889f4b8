"""The HTTP edge: JSON API, server-rendered pages, guards, middleware and error mapping."""
