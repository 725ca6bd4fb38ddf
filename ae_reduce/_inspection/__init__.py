"""Finding problems in data with a trained model: label issues."""
