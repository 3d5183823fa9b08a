"""``Idempotency-Key`` (docs/decisions.md §8): a retried POST replays the first response."""
