"""Measured experiments: memory over distance, word order, exploding gradients, cell comparison."""
