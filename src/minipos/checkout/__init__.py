"""Checkout: a sale from an invoice or rung up at the station, through one path to its receipt."""
