"""The HTTP layer: thin Starlette endpoints that decode, call a service, and encode."""
