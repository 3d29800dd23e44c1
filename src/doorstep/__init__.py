"""Doorstep: self-hosted customer messaging for websites."""

__version__ = "0.1.0"
