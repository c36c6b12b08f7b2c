"""Jingwu (警务): an open-source smart-policing platform."""

__version__ = "0.1.0"

__all__ = ["__version__"]
