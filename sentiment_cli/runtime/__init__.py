"""Everything prediction needs, without TensorFlow: the model folder, the NumPy
network, scoring and traces."""
