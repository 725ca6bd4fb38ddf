"""Helpers every layer may use: atomic fits, warnings, files, labels, folds, progress."""
