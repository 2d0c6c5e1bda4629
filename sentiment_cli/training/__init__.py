"""Training a model folder: data preparation, the fit loop, checkpoints, tuning."""
