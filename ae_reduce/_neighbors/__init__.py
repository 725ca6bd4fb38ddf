"""Nearest-neighbour search over embeddings."""
