"""Self-service analytics: journeys through each flow without personal identifiers, "did it solve it?", aggregates
with k-anonymity suppression, and the savings they stand for."""
