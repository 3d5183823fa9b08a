"""Fiscal receipts: their shapes, storage, the hash chain and its verification."""
