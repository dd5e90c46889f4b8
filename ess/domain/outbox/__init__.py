"""Directory write-back: HR changes queued in an outbox with the HR record and applied to the directory after commit."""
