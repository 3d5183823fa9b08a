"""Sales reports: totals of the receipts per day, hour, station, store, employee, payment
method, tax group, product or category (docs/reports.md)."""
