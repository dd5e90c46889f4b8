"""Server-rendered pages: Jinja forms with CSRF, the same domain use cases as the API."""
