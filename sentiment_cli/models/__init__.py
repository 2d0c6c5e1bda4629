"""The models: the Keras networks (built, and exported to NumPy), the bag-of-words
baseline, and the pretrained starts (encoder, word vectors)."""
