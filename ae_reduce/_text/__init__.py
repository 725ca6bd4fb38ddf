"""Text inputs: token sequences and mean word vectors."""
