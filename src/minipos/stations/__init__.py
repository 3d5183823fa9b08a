"""Cash-register stations: registry, shifts, the invoice feed, claims and checkout."""
