"""MiniPOS server: invoice middleware and back office for point-of-sale stations."""

__version__ = "0.1.0"
