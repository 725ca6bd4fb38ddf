"""The neural estimators: the shared base, autoencoder, supervised and token networks."""
