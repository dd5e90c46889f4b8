"""The pure domain: entities, rules and use cases, with outside systems behind ports."""
