"""The operator console for the admin role: settings (no secrets), the directory check, the outbox, the mail queue,
the HR import as an upload with a preview, and the last run of every daily job."""
