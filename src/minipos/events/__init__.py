"""The event log: every change worth telling, written in the transaction of the change."""
