"""fold and tokenize: the normalisation table, compounds, and offsets back into the original."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newswatch.matching import text as text_module
from newswatch.matching.text import fold, tokenize, words

FOLD_CASES = [
    ("case", "IDLIB Idlib", "idlib idlib"),
    ("turkish-dotted-i", "İdlib", "idlib"),
    ("turkish-dotless-i", "ıdlib", "idlib"),
    ("turkish-letters", "Erdoğan Beşiktaş", "erdogan besiktas"),
    ("french", "Élysée café", "elysee cafe"),
    ("decomposed-accent", "cafe\u0301", "cafe"),
    ("sharp-s", "Straße", "strasse"),
    ("ligature", "ﬁnance", "finance"),
    ("fullwidth", "ＮＡＴＯ", "nato"),
    ("arabic-alef-hamza-above", "أحمد", "احمد"),
    ("arabic-alef-hamza-below", "إدلب", "ادلب"),
    ("arabic-alef-madda", "آمنة", "امنه"),
    ("arabic-taa-marbuta", "مدرسة", "مدرسه"),
    ("arabic-alef-maqsura", "مستشفى", "مستشفي"),
    ("arabic-tatweel", "مـــدرسة", "مدرسه"),
    ("arabic-harakat", "مَدْرَسَة", "مدرسه"),
    ("persian-yeh", "ایران", "ايران"),
    ("typographic-apostrophe", "Erdoğan’s", "erdogan's"),
    ("typographic-quotes", "“Sochi”", '"sochi"'),
    ("en-dash", "Sykes–Picot", "sykes-picot"),
    ("soft-hyphen", "Erdo\u00adğan", "erdogan"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in FOLD_CASES],
                         ids=[c[0] for c in FOLD_CASES])
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


def test_fold_keep_case_keeps_letter_case_but_not_accents() -> None:
    assert fold("İdlib Erdoğan US", keep_case=True) == "Idlib Erdogan US"


TOKEN_CASES = [
    ("words", "Sochi, agreement.", [("sochi", "Sochi", 0, 0), ("agreement", "agreement", 1, 1)]),
    ("no-substrings", "Sochinsky", [("sochinsky", "Sochinsky", 0, 0)]),
    ("hyphen-compound", "de-escalation zone",
     [("de", "de", 0, 0), ("escalation", "escalation", 1, 1), ("deescalation", "de-escalation", 0, 1),
      ("zone", "zone", 2, 2)]),
    ("apostrophe-compound", "Erdoğan’s plan",
     [("erdogan", "Erdoğan", 0, 0), ("s", "s", 1, 1), ("erdogans", "Erdoğan’s", 0, 1), ("plan", "plan", 2, 2)]),
    ("lone-hyphen-separates", "Turkey - Russia", [("turkey", "Turkey", 0, 0), ("russia", "Russia", 1, 1)]),
    ("sharp-s-offsets", "Straße Idlib", [("strasse", "Straße", 0, 0), ("idlib", "Idlib", 1, 1)]),
    ("dotted-i-offsets", "İİ İdlib", [("ii", "İİ", 0, 0), ("idlib", "İdlib", 1, 1)]),
    ("ligature-offsets", "ﬁne ﬁsh", [("fine", "ﬁne", 0, 0), ("fish", "ﬁsh", 1, 1)]),
    ("decomposed-accent-offsets", "cafe\u0301 x", [("cafe", "cafe\u0301", 0, 0), ("x", "x", 1, 1)]),
    ("tatweel-offsets", "في مـــدرسة", [("في", "في", 0, 0), ("مدرسه", "مـــدرسة", 1, 1)]),
    ("cjk-one-per-character", "在北京", [("在", "在", 0, 0), ("北", "北", 1, 1), ("京", "京", 2, 2)]),
    ("devanagari-marks-stay-in-word", "नई दिल्ली", [("नई", "नई", 0, 0), ("दिलली", "दिल्ली", 1, 1)]),
    ("marks-elsewhere-latin-unchanged", "दिल्ली de-escalation",
     [("दिलली", "दिल्ली", 0, 0), ("de", "de", 1, 1), ("escalation", "escalation", 2, 2),
      ("deescalation", "de-escalation", 1, 2)]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in TOKEN_CASES], ids=[c[0] for c in TOKEN_CASES])
def test_tokenize(text: str, expected: list[tuple[str, str, int, int]]) -> None:
    assert [(t.text, text[t.start:t.end], t.position, t.last) for t in tokenize(text)] == expected


def test_tokenize_without_joined_forms() -> None:
    assert [t.text for t in tokenize("de-escalation", joined=False)] == ["de", "escalation"]


@given(st.text(alphabet=st.sampled_from("aZ İıßﬁé\u0301ـةأ-’ .,\n北"), max_size=40))
def test_every_token_surface_folds_to_the_token(text: str) -> None:
    for token in tokenize(text):
        surface = text[token.start:token.end]
        assert fold(surface).replace("-", "").replace("'", "") == token.text


@given(st.text(alphabet=st.sampled_from(list("abcÉé -'’İı北京\u0301\u093f.1")), max_size=60))
def test_words_are_exactly_the_token_texts(text):
    assert words(text) == {token.text for token in tokenize(text)}


def test_the_offsets_of_a_long_marked_text_are_kept_compact() -> None:
    # Arabic with its vowel marks folds shorter than it is written: each folded character keeps
    # where it came from, and a page's fold stays cached while the page is read
    text = "أَعْلَنَ الرَّئِيسُ أَرْدُوغَان فِي إِدْلِب اليوم. " * 4000 + "fresh"
    tracemalloc.start()
    try:
        assert tokenize(text)[-1].text == "fresh"
        kept = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, text_module.__file__)])
    finally:
        tracemalloc.stop()
    # two 4-byte offsets a character and the folded text (as lists of ints: ~50 bytes a character)
    assert sum(stat.size for stat in kept.statistics("filename")) < 12 * len(text)
