"""From a tweet to tokens and ids: the tokenizer, vocabulary, negation scope, lexicon."""
