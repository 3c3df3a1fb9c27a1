"""Building blocks of the model: attention backends, RMSNorm, MLP."""
