"""The word filter: no false negatives, and the integer form answers as the bytes do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from newswatch.stories import bloom

WORDS = st.lists(st.text(min_size=1, max_size=12), max_size=60)


@given(WORDS, st.text(min_size=1, max_size=12))
def test_mask_test_agrees_with_contains(words, probe):
    made = bloom.make(words)
    bits, mask = bloom.as_int(made), bloom.mask(probe)
    assert (bits & mask == mask) == bloom.contains(made, probe)
    assert all(bloom.contains(made, w) for w in words)


def test_a_word_left_out_is_usually_absent():
    made = bloom.make(f"word{i}" for i in range(400))
    absent = sum(bloom.contains(made, f"other{i}") for i in range(2000))
    assert absent < 100  # ~1 % expected when full
