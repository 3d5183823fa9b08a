"""Webhooks: the event log pushed to the integrator's endpoints, signed, retried, in order."""
