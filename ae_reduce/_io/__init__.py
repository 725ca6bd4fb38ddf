"""Input data: validation and float32 sources over arrays, memory maps, sparse and Arrow data."""
