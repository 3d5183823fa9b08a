"""A chain of shops (docs/stores.md): a store's outbox and its sync with the centre, and the
centre's stores registry and ingest. Above the business areas, below the composition root:
no area imports it (the outbox reaches them as the database's change hook)."""
