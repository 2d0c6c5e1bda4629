"""Scoring a model folder on labelled data, and its report."""
