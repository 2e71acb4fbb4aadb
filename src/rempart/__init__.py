"""Rempart: security and risk management for contact centers."""

__version__ = "0.1.0"

__all__ = ["__version__"]
