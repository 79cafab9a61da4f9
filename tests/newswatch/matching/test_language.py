"""The query language, one table row per operator or feature: the query, a document, match or not.

Documents are written "title | text"; without a "|" the string is the text and the title is empty.
"""

from __future__ import annotations

import pytest

from newswatch.matching import compile_query
from newswatch.models import Document

ALIASES = {
    "idlib": ["Idlib", "İdlib", "Idleb", "إدلب"],
    "talks": ["negotiat*", "peace talks"],
    "usa": ["U.S.", "United States"],
}

CASES = [
    # (id, query, document, matches)
    ("word", "Idlib", "Shelling in Idlib today", True),
    ("word-case-insensitive", "idlib", "IDLIB", True),
    ("word-not-substring", "Sochi", "Sochinsky said", False),
    ("word-not-inside-longer", "Idlib", "Idlibi", False),
    ("word-absent", "Idlib", "Aleppo", False),
    ("diacritics-query", "Erdoğan", "Erdogan spoke", True),
    ("diacritics-text", "Erdogan", "ERDOĞAN spoke", True),
    ("turkish-dotted-capital", "Idlib", "İDLİB", True),
    ("turkish-dotless", "İdlib", "ıdlib", True),
    ("turkish-s-cedilla", "Besiktas", "Beşiktaş won", True),
    ("arabic-hamza", "إدلب", "في ادلب", True),
    ("arabic-taa-marbuta", "مدرسة", "مدرسه", True),
    ("arabic-alef-maqsura", "مستشفى", "مستشفي", True),
    ("arabic-tatweel-harakat", "مدرسة", "مَـدْرَسَة", True),
    ("arabic-other-word", "مدرسة", "مدارس", False),
    ("french-accents", "Élysée", "elysee palace", True),
    ("german-sharp-s", "Strasse", "Straße", True),
    ("cjk-word", "北京", "我在北京工作", True),
    ("cjk-not-adjacent", "北京", "北方的京", False),
    ("phrase", '"Sochi agreement"', "the Sochi agreement holds", True),
    ("phrase-punctuation-between", '"Sochi agreement"', "in Sochi; agreement", True),
    ("phrase-order", '"Sochi agreement"', "agreement in Sochi", False),
    ("phrase-gap", '"Sochi agreement"', "Sochi peace agreement", False),
    ("phrase-escaped-quote", r'"say \"no\" now"', 'they say "no" now', True),
    ("phrase-across-fields", '"Sochi agreement"', "Sochi | agreement", False),
    ("and", "Idlib AND Turkey", "Turkey in Idlib", True),
    ("and-missing", "Idlib AND Turkey", "Idlib alone", False),
    ("and-implicit", "Idlib Turkey", "Turkey in Idlib", True),
    ("and-implicit-missing", "Idlib Turkey", "Turkey alone", False),
    ("and-across-fields", "Idlib Turkey", "Idlib | Turkey", True),
    ("or-left", "Idlib OR Idleb", "Idlib", True),
    ("or-right", "Idlib OR Idleb", "Idleb", True),
    ("or-neither", "Idlib OR Idleb", "Aleppo", False),
    ("not", "Idlib NOT Damascus", "Idlib today", True),
    ("not-vetoes", "Idlib NOT Damascus", "Idlib and Damascus", False),
    ("and-not", "Idlib AND NOT Damascus", "Idlib and Damascus", False),
    ("lower-case-operators-are-words", "Idlib and Turkey", "Idlib Turkey", False),
    ("lower-case-and-is-a-word", "Idlib and Turkey", "Idlib and Turkey", True),
    ("lower-case-not-is-a-word", "not guilty", "he is not guilty", True),
    ("precedence-and-over-or", "Idlib OR Aleppo Turkey", "Idlib only", True),
    ("precedence-and-over-or-2", "Idlib OR Aleppo Turkey", "Aleppo only", False),
    ("precedence-parentheses", "(Idlib OR Aleppo) Turkey", "Idlib only", False),
    ("precedence-parentheses-2", "(Idlib OR Aleppo) Turkey", "Aleppo Turkey", True),
    ("precedence-not-over-and", "Idlib NOT Damascus Turkey", "Idlib Turkey", True),
    ("precedence-not-over-and-2", "Idlib NOT Damascus Turkey", "Idlib Damascus Turkey", False),
    ("precedence-not-over-or", "NOT Damascus Idlib OR Aleppo", "Aleppo Damascus", True),
    ("precedence-near-over-not", "Idlib NOT Erdogan NEAR/2 Putin", "Idlib Putin, and much later Erdogan", True),
    ("precedence-near-over-not-2", "Idlib NOT Erdogan NEAR/2 Putin", "Idlib Erdogan Putin", False),
    ("prefix", "negotiat*", "Negotiations resumed", True),
    ("prefix-exact-stem", "negotiat*", "negotiat", True),
    ("prefix-only-at-word-start", "negotiat*", "renegotiate", False),
    ("prefix-diacritics", "Erdoğ*", "Erdogans", True),
    ("prefix-in-phrase-not-allowed-so-near", "negotiat* NEAR/0 talks", "negotiating talks", True),
    ("near-in-order", "Erdoğan NEAR/3 Putin", "Erdogan met with Putin", True),
    ("near-reverse-order", "Erdoğan NEAR/3 Putin", "Putin met with Erdogan", True),
    ("near-boundary", "Erdoğan NEAR/3 Putin", "Erdogan a b c Putin", True),
    ("near-boundary-plus-one", "Erdoğan NEAR/3 Putin", "Erdogan a b c d Putin", False),
    ("near-zero-adjacent", "Erdoğan NEAR/0 Putin", "Erdogan, Putin", True),
    ("near-zero-gap", "Erdoğan NEAR/0 Putin", "Erdogan and Putin", False),
    ("near-nearest-pair", "Erdoğan NEAR/2 Putin", "Erdogan x x x x x x Putin x Erdogan", True),
    ("near-phrase", '"Sochi agreement" NEAR/5 Turkey', "Turkey said the Sochi agreement holds", True),
    ("near-phrase-too-far", '"Sochi agreement" NEAR/1 Turkey', "Turkey said that the Sochi agreement", False),
    ("near-phrase-gap-counts-from-phrase-end", '"Sochi agreement" NEAR/1 Turkey', "the Sochi agreement, Turkey", True),
    ("near-prefix", "negotiat* NEAR/2 Idlib", "Idlib negotiations", True),
    ("near-same-word-is-not-near-itself", "Idlib NEAR/5 Idl*", "in Idlib today", False),
    ("near-two-mentions", "Idlib NEAR/5 Idl*", "Idlib and Idleb", True),
    ("near-same-field-only", "Erdogan NEAR/5 Putin", "Erdogan | Putin", False),
    ("near-or-group", "(Erdoğan OR Erdogan) NEAR/1 Putin", "Erdogan, Putin", True),
    ("near-chained", "Erdogan NEAR/1 Putin NEAR/1 Sochi", "Erdogan Putin in Sochi", True),
    ("near-hyphen-counts-parts", "Idlib NEAR/1 zone", "Idlib de-escalation zone", False),
    ("near-hyphen-counts-parts-2", "Idlib NEAR/2 zone", "Idlib de-escalation zone", True),
    ("title", "title:Idlib", "Idlib talks | nothing", True),
    ("title-not-in-text", "title:Idlib", "talks | Idlib", False),
    ("title-phrase", 'title:"Sochi agreement"', "Sochi agreement | x", True),
    ("title-group", "title:(Idlib OR Idleb)", "Idleb | x", True),
    ("title-group-not", "title:(Idlib NOT Damascus)", "Idlib | Damascus", True),
    ("title-group-not-2", "title:(Idlib NOT Damascus)", "Idlib Damascus | x", False),
    ("text", "text:Idlib", "x | Idlib", True),
    ("text-not-in-title", "text:Idlib", "Idlib | x", False),
    ("case", "case:US", "the US said", True),
    ("case-rejects-lower", "case:US", "told us", False),
    ("case-rejects-mixed", "case:US", "Us and them", False),
    ("case-still-folds-accents", "case:Erdogan", "Erdoğan", True),
    ("case-rejects-upper-word", "case:Erdogan", "ERDOGAN", False),
    ("case-phrase", 'case:"New York"', "in New York", True),
    ("case-phrase-rejects", 'case:"New York"', "in new York", False),
    ("case-prefix", "case:NAT*", "NATO summit", True),
    ("case-prefix-rejects", "case:NAT*", "national", False),
    ("case-in-title", "title:case:US", "US talks | x", True),
    ("hyphen-query-matches-hyphen", "de-escalation", "de-escalation", True),
    ("hyphen-query-matches-space", "de-escalation", "de escalation", True),
    ("hyphen-query-matches-joined", "de-escalation", "deescalation", True),
    ("joined-query-matches-hyphen", "deescalation", "de-escalation", True),
    ("spaced-query-matches-hyphen", '"de escalation"', "de-escalation", True),
    ("part-matches-hyphenated", "escalation", "de-escalation", True),
    ("hyphen-query-not-part", "de-escalation", "escalation", False),
    ("hyphen-typographic", "de-escalation", "de‐escalation", True),
    ("apostrophe", "Erdoğan", "Erdoğan’s plan", True),
    ("apostrophe-query", "Erdoğan's", "Erdogan’s plan", True),
    ("hyphen-phrase", '"de-escalation zone"', "de escalation zone", True),
    ("hyphen-prefix", "de-esc*", "de-escalation", True),
    ("alias", "@idlib", "إدلب", True),
    ("alias-dotted", "@idlib", "İDLİB", True),
    ("alias-none", "@idlib", "Aleppo", False),
    ("alias-prefix-entry", "@talks", "negotiations", True),
    ("alias-phrase-entry", "@talks", "peace talks", True),
    ("alias-phrase-entry-split", "@talks", "peace and talks", False),
    ("alias-punctuation-entry", "@usa", "the U.S. said", True),
    ("alias-in-title", "title:@idlib", "Idleb | x", True),
    ("alias-near", "@idlib NEAR/2 Turkey", "Turkey in Idleb", True),
]


def _doc(spec: str) -> Document:
    title, _, text = spec.rpartition(" | ") if " | " in spec else ("", "", spec)
    return Document(title=title, text=text)


@pytest.mark.parametrize(("query", "document", "matches"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_language(query: str, document: str, matches: bool) -> None:
    hit = compile_query(query, ALIASES).evaluate(_doc(document))
    assert (hit is not None) == matches, hit
