"""Durable mail: every notice is queued in the database and sent by a worker, with retries and backoff."""
