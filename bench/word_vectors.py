"""Train word2vec vectors on unlabelled tweets, for ``model.embeddings_file``.

The texts are tokenized exactly as sentiment-cli tokenizes them (the text section of
the given config), so the vectors' words match the model's vocabulary. Labels, if the
CSVs have any, are ignored.

    python bench/word_vectors.py OUT.txt A.csv [B.csv ...] [--config configs/lstm.yaml]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sentiment_cli.config import load_config
from sentiment_cli.io.readers import parse_csv, read_text_file
from sentiment_cli.text.tokenizer import tokenize_all


def read_texts(paths: list[str], column: str) -> list[str]:
    texts: list[str] = []
    for path in paths:
        frame = parse_csv(read_text_file(path), path)
        texts += frame[column].astype(str).tolist()
    return texts


def train_vectors(
    texts: list[str], out: Path, config_path: str | None, dim: int, epochs: int, seed: int
) -> dict:
    from gensim.models import Word2Vec

    config = load_config(config_path)
    started = time.perf_counter()
    sentences = tokenize_all(texts, config.text)
    model = Word2Vec(
        sentences,
        vector_size=dim,
        window=5,
        min_count=2,
        sg=1,  # skip-gram: better vectors for rare words on a small corpus
        negative=10,
        epochs=epochs,
        seed=seed,
        workers=2,
    )
    model.wv.save_word2vec_format(str(out), binary=False)
    return {
        "texts": len(texts),
        "words": len(model.wv),
        "dim": dim,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("csv", nargs="+")
    parser.add_argument("--column", default="text")
    parser.add_argument("--config", default=None)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    info = train_vectors(
        read_texts(args.csv, args.column), args.out, args.config, args.dim, args.epochs, args.seed
    )
    print(
        f"{info['words']} word vectors ({info['dim']}-d) from {info['texts']} texts "
        f"in {info['seconds']}s -> {args.out}"
    )


if __name__ == "__main__":
    main()
