"""Two-dimensional maps: the openTSNE adapter and parametric t-SNE."""
