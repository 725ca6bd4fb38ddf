"""Scaling that chooses itself."""
