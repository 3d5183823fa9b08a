"""The centre of a chain of shops (docs/stores.md): its stores registry, the ingest of what
stores push, the pages they pull, and the reconciliation of their shifts."""
