"""MinHash signatures: a long text's signature is the one-batch signature, in bounded memory."""

from __future__ import annotations

import random
import tracemalloc

from datasketch import MinHash

from newswatch.stories import shingles


def _text(n_words: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    vocabulary = [f"w{rng.getrandbits(40):x}" for _ in range(5000)]
    return " ".join(rng.choice(vocabulary) for _ in range(n_words))


def test_a_text_signed_in_batches_has_the_signature_of_one_batch() -> None:
    text = _text(3 * shingles._BATCH)
    hashes = shingles._shingle_hashes(shingles.words(text))
    one = MinHash(num_perm=shingles.NUM_PERM, seed=1, permutations=shingles._permutations(),
                  scheme=shingles._SCHEME, hashfunc=int)
    one.update_batch(hashes.tolist())

    values, n = shingles.signature(text)

    assert n == len(hashes) > 2 * shingles._BATCH
    assert values.tolist() == one.hashvalues.astype("uint32").tolist()


def test_a_huge_page_is_signed_in_bounded_memory() -> None:
    text = _text(150_000)  # about 1 MB of text: 150,000 shingles, ~155 MB in one batch
    shingles.words(text)  # the words are the text's, whatever the signature does with them
    tracemalloc.start()
    try:
        shingles.signature(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
