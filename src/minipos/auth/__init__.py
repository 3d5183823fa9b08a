"""API keys and roles (decisions.md §4)."""
