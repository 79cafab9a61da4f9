"""Salient terms of an article: the rare words and names that say which event it reports.

Rules:
- Words are runs of `\\w` folded with `newswatch.matching.text.fold` ("Lohan's" → lohan,
  "doesn't" stays one word, "1,098" → 1098, "4.6" stays one number); one-character words and
  years are dropped. In a language with a Snowball stemmer other than English (STEMMED), a word
  is its stem, folded (Turkish "Erdoğan'ın", "Erdoğan" → erdoga; Arabic "والسلام", "السلام" →
  سلام): reports in those languages inflect and prefix the names they share. English is left
  unstemmed: its possessives are handled above and its plurals rarely hide a shared name.
- Rarity is 6.5 minus the word's Zipf frequency in its language (wordfreq "small" lists, ~30k
  words per language, folded like our text; a stem's rarity is that of its first form in the
  text), clamped to [0.5, 5]: "lohan" 3.5, "police" 1.2.
  Stopwords (Zipf ≥ 6: "the", "said") have rarity 0 and are dropped. A word missing from the list
  counts as Zipf 1.5 (a name or a rare word, but also a typo, so not the maximum). Decimal numbers
  weigh 3 ("4.6"), other numbers of three or more digits 2.5, shorter ones 0.5. An unsupported
  language, or None with text that does not read as English (under half of its lower-case words
  known), has no list: every word weighs 2.
- An entity is a word capitalised away from the start of a sentence (in the title too when the
  title is in sentence case, not Title Case) and not common (Zipf < 5: not "Police"), or a rare
  word (rarity ≥ 3) never seen in lower case, or a number of three or more digits; English day
  and month names never are.
- Salience = rarity × (1 + ln count) × position: ×2 for a word of the title, ×1.5 for a word of
  the lead (the first LEAD_WORDS words of the text). `analyse` keeps the TOP_TERMS most salient
  words, and the VOCABULARY rarest words of the whole article for presence checks.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from newswatch.matching.text import fold
from newswatch.matching.text import words as folded_words

__all__ = ["ENTITY", "LEAD", "LEAD_WORDS", "NO_TABLE_RARITY", "TITLE", "TOP_TERMS", "VOCABULARY", "Term", "ages",
           "analyse", "rarity", "weekdays"]

LEAD_WORDS = 60
TOP_TERMS = 40
VOCABULARY = 400
ENTITY, TITLE, LEAD = 1, 2, 4  # Term.flags bits

_STOP_ZIPF, _COMMON_ZIPF, _MISSING_ZIPF = 6.0, 5.0, 1.5
NO_TABLE_RARITY = 2.0
_RARE_NAME = 3.0
_TITLE_BOOST, _LEAD_BOOST = 2.0, 1.5
_WORD = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?\w*|\w+(?:['’]\w*)*")
_POSSESSIVE = re.compile(r"['’]s$|['’]$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_YEAR = re.compile(r"(1[89]|20)\d\d")
# Capitalised in English but not names of anyone or anywhere: days and months.
_CALENDAR = frozenset("monday tuesday wednesday thursday friday saturday sunday january february march "
                      "april may june july august september october november december".split())
_SENTENCE_END = re.compile(r"[.!?:;\n]")
# A person's age as reports of one incident give it ("a 16-year-old", "John Doe, 34,", "aged 71",
# "de 16 años", "16 ans", "16 yaşındaki", "16 عاما"): different incidents of one kind in one city
# and week have victims of other ages, two reports of one incident the same ones.
_AGE = re.compile(r"\b(\d{1,3})[- ](?:years?|yrs?)[- ]old\b|\b(?:aged?|âgée?s? de) (\d{1,3})\b"
                  r"|(?<=\w), (\d{1,3}),|\b(\d{1,3}) (?:años|ans|anni|jahre\w*|yaş\w*|عام\w*|سن\w*)", re.IGNORECASE)
# The days of the week, Monday first, as folded words ("Saturday night", "el sábado", "samedi",
# "cumartesi", "السبت"): two reports of one incident name its day, the other incidents of a city's
# week mostly other days.
_WEEKDAYS = {word: day for day, names in enumerate((
    "monday lunes lundi pazartesi الاثنين", "tuesday martes mardi sali الثلاثاء",
    "wednesday miercoles mercredi carsamba الاربعاء", "thursday jueves jeudi persembe الخميس",
    "friday viernes vendredi cuma الجمعه", "saturday sabado samedi cumartesi السبت",
    "sunday domingo dimanche pazar الاحد")) for word in names.split()}
_LOWER, _UPPER = 1, 2
_OPENERS = " \t\"'«»“”‘’([—–-"


@dataclass(frozen=True, slots=True)
class Term:
    """A salient word: its folded text, rarity, salience and where it was seen (flag bits)."""

    text: str
    rarity: float
    salience: float
    flags: int

    @property
    def entity(self) -> bool:
        return bool(self.flags & ENTITY)


@lru_cache(maxsize=8)
def _table(language: str) -> dict[str, float] | None:
    """Folded word → Zipf frequency for a wordfreq language, or None if it has no list."""
    import wordfreq  # imported on first use: only fingerprinting needs it

    if language not in wordfreq.available_languages("small"):
        return None
    table: dict[str, float] = {}
    for word, freq in wordfreq.get_frequency_dict(language, "small").items():
        key, zipf = fold(word), math.log10(freq * 1e9) if freq > 0 else 0.0
        if zipf > table.get(key, -1.0):
            table[key] = zipf
    return table


# Snowball's languages by ISO 639-1 code (snowballstemmer), English aside (module docstring)
STEMMED = {"ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
           "es": "spanish", "et": "estonian", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish",
           "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
           "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "nb": "norwegian",
           "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
           "sv": "swedish", "ta": "tamil", "tr": "turkish", "fa": "persian", "yi": "yiddish"}
_TURKISH_LOWER = str.maketrans({"I": "ı", "İ": "i"})


@lru_cache(maxsize=64)
def _keys(language: str | None) -> Callable[[str], str]:
    """The function from a word (as written) to its key in `language`: folded, or the folded
    Snowball stem (STEMMED), remembered per word: news repeats its vocabulary."""
    algorithm = STEMMED.get(language or "")
    if algorithm is None:
        return fold
    import snowballstemmer  # imported on first use: only fingerprinting needs it

    stem = snowballstemmer.stemmer(algorithm).stemWord
    turkish = language == "tr"

    @lru_cache(maxsize=1 << 17)
    def key(word: str) -> str:
        lower = word.translate(_TURKISH_LOWER).lower() if turkish else word.lower()
        return fold(stem(lower)) or fold(word)

    return key


def _code(language: str | None) -> str | None:
    return re.split(r"[-_]", language.strip().lower())[0] if language and language.strip() else None


def language_table(language: str | None, text: str) -> dict[str, float] | None:
    """The rarity table for `language` ("en", "pt-BR"); None guesses English if the text reads so."""
    if code := _code(language):
        return _table(code)
    table = _table("en")
    lower = re.findall(r"\b[a-z]{2,}\b", text[:3000])
    if table is None or not lower:
        return None
    return table if sum(w in table for w in lower) * 2 >= len(lower) else None


def rarity(word: str, table: dict[str, float] | None) -> float:
    """How much sharing this folded word says about two articles (0.5–5; 0 for a stopword)."""
    if word[0].isdigit():
        if _YEAR.fullmatch(word):
            return 0.0
        if not _NUMBER.fullmatch(word):
            return 0.5  # 6th, 10am, 3d
        return 3.0 if "." in word else (2.5 if len(word) >= 3 else 0.5)
    if table is None:
        return NO_TABLE_RARITY
    zipf = table.get(word, _MISSING_ZIPF)
    return 0.0 if zipf >= _STOP_ZIPF else min(5.0, max(0.5, 6.5 - zipf))


@lru_cache(maxsize=1 << 16)  # a text repeats its words, and news repeats its vocabulary
def _normal(token: str, key: Callable[[str], str]) -> tuple[str | None, str, int]:
    """A matched word's key (`_keys`) without its possessive ending (None if under 2
    characters), its folded form (for its rarity), and its case: _LOWER, _UPPER or neither (a digit)."""
    surface = _POSSESSIVE.sub("", token)
    if surface[0].isdigit():
        word = folded = surface.replace(",", "")
    else:
        folded = fold(surface)
        word = folded if key is fold else key(surface)
    case = _LOWER if surface[0].islower() else (_UPPER if surface[0].isupper() else 0)
    return (word if len(word) >= 2 else None), folded, case


def _sentence_start(raw: str, start: int) -> bool:
    """Whether the word at `start` opens a sentence (only openers and spaces before it)."""
    i = start - 1
    while i >= 0 and raw[i] in _OPENERS:
        i -= 1
    return i < 0 or bool(_SENTENCE_END.match(raw[i]))


def _sentence_case(title: str) -> bool:
    """Whether capitals in the title mean names: most of its longer words are lower case."""
    longer = [w for w in re.findall(r"\w{4,}", title) if not w[0].isdigit()]
    return bool(longer) and sum(w[0].isupper() for w in longer) * 2 < len(longer)


def ages(title: str, text: str) -> frozenset[int]:
    """The ages of people the title and lead give (LEAD_WORDS words of the text)."""
    found = (int(next(group for group in match.groups() if group)) for match in _AGE.finditer(_lead(title, text)))
    return frozenset(age for age in found if 0 < age < 120)


def weekdays(title: str, text: str) -> int:
    """The days of the week the title and lead name (LEAD_WORDS words of the text), as bits: 1 Monday."""
    days = 0
    for word in folded_words(_lead(title, text)):
        if (day := _WEEKDAYS.get(word)) is not None:
            days |= 1 << day
    return days


def _lead(title: str, text: str) -> str:
    """The title and the first LEAD_WORDS words of the text (a long page is not split whole)."""
    return f"{title}\n{' '.join(text.split(maxsplit=LEAD_WORDS)[:LEAD_WORDS])}"


def analyse(title: str, text: str, language: str | None = None,
            ignore: frozenset[str] = frozenset()) -> tuple[list[Term], list[str]]:
    """The TOP_TERMS most salient terms (most salient first) and the VOCABULARY rarest words
    (in no particular order); words in `ignore` (folded) are neither."""
    table = language_table(language, f"{title}\n{text}")
    key = _keys(_code(language))
    counts: Counter[str] = Counter()
    flags: dict[str, int] = {}
    named: set[str] = set()  # capitalised away from a sentence start
    lower: set[str] = set()  # seen in lower case
    forms: dict[str, str] = {}  # word → its first folded form, whose rarity it has
    for raw, in_title in ((title, True), (text, False)):
        names_count = not in_title or _sentence_case(title)
        words = []
        for match in _WORD.finditer(raw):  # once per word of the text: kept lean
            word, folded, case = _normal(match[0], key)
            if word is None:
                continue
            words.append(word)
            forms.setdefault(word, folded)
            if case == _LOWER:
                lower.add(word)
            elif case == _UPPER and names_count and not _sentence_start(raw, match.start()):
                named.add(word)
        counts.update(words)
        if in_title:
            flags.update(dict.fromkeys(words, TITLE))
        else:
            for word in words[:LEAD_WORDS]:
                flags[word] = flags.get(word, 0) | LEAD
    # every distinct word is scored; only the kept ones become Terms and are checked for names
    scored = []
    rarities = _rarities(table)
    for word, count in counts.items():
        form = forms[word]
        if form in ignore:
            continue
        weight = rarities.get(form)
        if weight is None:
            weight = rarities[form] = rarity(form, table)
        if weight <= 0:
            continue
        bits = flags.get(word, 0)
        position = _TITLE_BOOST if bits & TITLE else (_LEAD_BOOST if bits & LEAD else 1.0)
        scored.append((weight * (1 + math.log(count)) * position, weight, word, bits))
    kept = heapq.nsmallest(TOP_TERMS, scored, key=lambda s: (-s[0], s[2]))
    terms = [Term(word, weight, salience,
                  bits | (ENTITY if _is_entity(word, forms[word], weight, named, lower, table) else 0))
             for salience, weight, word, bits in kept]
    rarest = scored if len(scored) <= VOCABULARY else heapq.nsmallest(VOCABULARY, scored, key=lambda s: (-s[1], s[2]))
    return terms, [word for _, _, word, _ in rarest]


_RARITIES: dict[int, tuple[dict[str, float] | None, dict[str, float]]] = {}


def _rarities(table: dict[str, float] | None) -> dict[str, float]:
    """The rarity of each word already scored against `table`: news repeats its vocabulary."""
    held = _RARITIES.get(id(table))
    if held is None or held[0] is not table or len(held[1]) > 200_000:
        held = _RARITIES[id(table)] = (table, {})
    return held[1]


def _is_entity(word: str, form: str, weight: float, named: set[str], lower: set[str],
               table: dict[str, float] | None) -> bool:
    """A name (capitalised mid-sentence and not common, or rare and never lower case) or a number."""
    if _NUMBER.fullmatch(word):
        return len(word) >= 3
    if form in _CALENDAR:
        return False
    if word in named:
        return table is None or table.get(form, 0.0) < _COMMON_ZIPF
    return word not in lower and weight >= _RARE_NAME
