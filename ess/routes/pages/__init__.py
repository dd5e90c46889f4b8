"""Server-rendered pages: Jinja forms with CSRF, the same domain services as the API."""
