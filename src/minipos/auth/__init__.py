"""API keys and roles (docs/decisions.md §4)."""
