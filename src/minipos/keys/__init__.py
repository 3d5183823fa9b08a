"""API keys over HTTP and the command line: list, create, revoke (docs/api-conventions.md)."""
