"""The MIDserver invoice API: integrators post invoices, stations turn them into receipts."""
