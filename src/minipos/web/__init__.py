"""The cashier station in the browser: static files served at ``/pos/`` (docs/cashier-ui.md)."""
