"""ESS: Employee Self-Service for personal data, vacation and passwords."""

__version__ = "0.1.0"
