"""Personal data self-service: what employees may change about themselves, and how it is checked."""
