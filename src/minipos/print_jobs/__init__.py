"""The durable print queue: one row per document to print, kept until the printer took it."""
