"""Fiscal receipts: issuing them onto the hash chain, their shapes and storage, shift totals
and the audit."""
