"""extract(): golden article pages (tests/data/pages, see its README), comments, charsets, None.

Text is scored against each page's ground truth with the article-extraction-benchmark's metric:
word 4-gram shingles, F1 of precision and recall. Metadata (title, author, date, language,
canonical URL) is compared with tests/data/pages/expected.json; regenerate it after a deliberate
change with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/newswatch/test_extract.py`, and review the diff.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pytest
import trafilatura

from newswatch.extract import extract
from newswatch.models import Extracted

PAGES = Path(__file__).parents[1] / "data" / "pages"
GOLDEN = PAGES / "expected.json"


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return Counter(tuple(words[i:i + n]) for i in range(max(0, len(words) - n + 1)))


def shingle_f1(truth: str, predicted: str) -> float:
    """The benchmark's per-document score: F1 of 4-gram shingle precision and recall."""
    expected, got = shingles(truth), shingles(predicted)
    overlap = sum((expected & got).values())
    precision, recall = overlap / max(1, sum(got.values())), overlap / max(1, sum(expected.values()))
    return 2 * precision * recall / (precision + recall) if overlap else 0.0


def squash(text: str) -> str:
    return " ".join(text.split())


def first_and_last_sentence(paragraphs: list[str]) -> tuple[str, str]:
    paragraphs = [squash(p) for p in paragraphs if p.strip()]
    split = re.compile(r"(?<=[.!?…])\s+")
    return split.split(paragraphs[0])[0], split.split(paragraphs[-1])[-1]


def _cases() -> list[tuple[str, bytes, str, list[str]]]:
    """(name, html, url, ground-truth paragraphs) for every golden page."""
    cases = []
    truth = json.loads((PAGES / "scrapinghub" / "ground-truth.json").read_text(encoding="utf-8"))
    for key, page in sorted(truth.items()):
        html = gzip.decompress((PAGES / "scrapinghub" / f"{key}.html.gz").read_bytes())
        cases.append((f"scrapinghub/{key[:12]}", html, page["url"], page["articleBody"].split("\n")))
    for folder in sorted((PAGES / "readability").iterdir()):
        html = gzip.decompress((folder / "source.html.gz").read_bytes())
        expected = lxml.html.fromstring((folder / "expected.html").read_bytes())
        paragraphs = [p.text_content() for p in expected.xpath("//p")]
        cases.append((f"readability/{folder.name}", html, f"http://fakehost/test/{folder.name}/", paragraphs))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def extracted() -> dict[str, Extracted | None]:
    results = {name: extract(html, url) for name, html, url, _ in CASES}
    if os.environ.get("UPDATE_GOLDEN"):
        golden = {name: _metadata(result) for name, result in results.items()}
        GOLDEN.write_text(json.dumps(golden, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return results


def _metadata(result: Extracted | None) -> dict[str, str | None]:
    assert result is not None
    return {"title": result.title, "author": result.author, "language": result.language,
            "date": result.date and result.date.isoformat(), "canonical_url": result.canonical_url}


@pytest.mark.parametrize(("name", "paragraphs"), [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_golden_text(extracted: dict[str, Extracted | None], name: str, paragraphs: list[str]) -> None:
    result = extracted[name]
    assert result is not None
    first, last = first_and_last_sentence(paragraphs)
    text = squash(result.text)
    assert first in text
    assert last in text
    assert shingle_f1("\n".join(paragraphs), result.text) >= 0.8


@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_golden_metadata(extracted: dict[str, Extracted | None], name: str) -> None:
    assert _metadata(extracted[name]) == json.loads(GOLDEN.read_text(encoding="utf-8"))[name]


def test_metadata_is_utc_and_normalised(extracted: dict[str, Extracted | None]) -> None:
    for result in extracted.values():
        assert result is not None
        assert result.date is None or result.date.tzinfo == timezone.utc
        assert result.language is None or re.fullmatch(r"[a-z]{2,3}", result.language)


def test_without_metadata_the_text_is_the_same_and_title_author_date_are_left_to_the_feed(
        extracted: dict[str, Extracted | None]) -> None:
    for name, html, url, _ in CASES:
        bare, full = extract(html, url, metadata=False), extracted[name]
        assert bare is not None and full is not None
        assert bare.text == full.text
        assert (bare.title, bare.author, bare.date) == (None, None, None)
        assert (bare.language, bare.canonical_url) == (full.language, full.canonical_url)


COMMENTS_PAGE = (PAGES / "comments.html").read_bytes()
COMMENT_WORDS = ("zebracorn", "bankruptcy", "Leave a Reply", "says:")


def test_reader_comments_are_left_out() -> None:
    with_comments = trafilatura.extract(COMMENTS_PAGE, include_comments=True) or ""
    assert "zebracorn" in with_comments  # trafilatura's default keeps them: the test bites
    result = extract(COMMENTS_PAGE, "https://herald.example/news/2024/01/harbour-reopens?utm_source=feed")
    assert result is not None
    assert result.text.endswith("would be paid for from its emergency reserve.")
    assert not [word for word in COMMENT_WORDS if word in result.text]
    assert "Sport" not in result.text  # navigation
    assert (result.title, result.author, result.language) == (
        "Harbour to reopen after storm repairs", "Jo Bloggs", "en"
    )
    assert result.date == datetime(2024, 1, 5, 8, 30, tzinfo=timezone.utc)
    assert result.canonical_url == "https://herald.example/news/2024/01/harbour-reopens"


ARTICLE = (
    "<p>Le café de la gare a rouvert ses portes après trois années de travaux et de débats municipaux. "
    "Les habitués étaient nombreux à fêter l'événement, malgré la pluie et le froid de décembre.</p>"
    "<p>Selon la propriétaire, la façade d'époque a été restaurée à l'identique, et le comptoir en zinc "
    "a retrouvé sa place d'origine, à côté de l'horloge qui donne toujours l'heure exacte.</p>"
)
RUSSIAN = "<p>" + "Кафе на вокзале снова открылось после трёх лет ремонта и долгих споров. " * 4 + "</p>"


def page(body: str, head: str = "", lang: str = "fr") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head>{head}<title>t</title></head>'
            f"<body><article>{body}</article></body></html>")


@pytest.mark.parametrize(
    ("html", "phrase"),
    [
        (page(ARTICLE).encode("utf-8"), "Le café de la gare"),
        (page(ARTICLE, '<meta charset="utf-8">').encode("latin-1"), "Le café de la gare"),
        (page(ARTICLE, '<meta charset="iso-8859-1">').encode("utf-8"), "Le café de la gare"),
        (page(ARTICLE).encode("cp1252"), "Le café de la gare"),
        (page(ARTICLE, '<meta charset="windows-1252">').encode("cp1252"), "façade d'époque"),
        (page(RUSSIAN, '<meta charset="windows-1251">', "ru").encode("cp1251"), "Кафе на вокзале"),
        (page(RUSSIAN, '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">', "ru").encode("koi8-r"),
         "снова открылось"),
        (page(RUSSIAN, lang="ru").encode("utf-16"), "Кафе на вокзале"),
        (page(ARTICLE), "Le café de la gare"),
        (page(ARTICLE.replace("gare", "gare\x00")).encode("utf-8"), "Le café de la gare"),
    ],
    ids=["utf8", "latin1-declared-utf8", "utf8-declared-latin1", "cp1252-undeclared", "cp1252-declared",
         "cp1251-declared", "koi8r-http-equiv", "utf16-bom", "str", "nul-bytes"],
)
def test_charsets(html: bytes | str, phrase: str) -> None:
    result = extract(html, "http://example.com/a")
    assert result is not None and phrase in result.text and "\ufffd" not in result.text and "\x00" not in result.text


@pytest.mark.parametrize(
    "html",
    [
        b"",
        b"   \n ",
        b"<html><body></body></html>",
        b"<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a>"
        b"</nav></body></html>",
        b"<html><body><p>Accept cookies?</p><button>OK</button></body></html>",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj",
        bytes(range(256)) * 4,
    ],
    ids=["empty", "blank", "empty-html", "nav-only", "cookie-notice", "pdf", "binary"],
)
def test_no_article_is_none(html: bytes) -> None:
    assert extract(html, "http://example.com/") is None


@pytest.mark.parametrize(
    ("head", "lang", "language", "canonical"),
    [
        ('<link rel="canonical" href="/a/canonical">', "pt-BR", "pt", "http://example.com/a/canonical"),
        ('<link rel="alternate canonical" href="https://other.example/x">', "EN", "en", "https://other.example/x"),
        ('<meta property="og:url" content="https://example.com/og">', "", None, "https://example.com/og"),
        ('<meta property="og:locale" content="de_DE"><link rel="canonical" href="javascript:alert(1)">', "",
         "de", None),
        ('<meta http-equiv="Content-Language" content="es-MX">', "", "es", None),
        ("", "zz-invalid-tag-", "zz", None),
        ('<link rel="canonical" href="http://[::1/x"><meta property="og:url" content="https://example.com/og">', "",
         None, "https://example.com/og"),
    ],
    ids=["canonical-relative", "rel-list", "og-url", "og-locale-bad-canonical", "content-language", "odd-lang",
         "malformed-canonical"],
)
def test_language_and_canonical(head: str, lang: str, language: str | None, canonical: str | None) -> None:
    html = page(ARTICLE, head, lang).replace(' lang=""', "")
    result = extract(html.encode(), "http://example.com/a/page?ref=feed")
    assert result is not None
    assert (result.language, result.canonical_url) == (language, canonical)


def test_extract_and_its_result_pickle_for_a_process_pool() -> None:
    assert pickle.loads(pickle.dumps(extract)) is extract
    result = extract(COMMENTS_PAGE, "https://herald.example/x")
    assert pickle.loads(pickle.dumps(result)) == result


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-01-05T08:30:00+0000", datetime(2024, 1, 5, 8, 30, tzinfo=timezone.utc)),
        ("2024-01-05T11:30:00+0300", datetime(2024, 1, 5, 8, 30, tzinfo=timezone.utc)),
        ("9999-12-31T23:59:59+0000", None),
        ("0001-01-01T00:00:00+0000", None),
        ("0001-01-01T00:00:00+0100", None),
        ("1899-12-31", None),
        ("not a date", None),
    ],
    ids=["utc", "offset", "year-9999", "year-1", "before-year-1-in-utc", "before-1900", "garbage"],
)
def test_a_page_date_is_kept_only_when_plausible(monkeypatch, date: str, expected: datetime | None) -> None:
    """Issue "Nothing stops the watch": a page dated year 1 or 9999 failed its triage batch."""
    bare_extraction = trafilatura.bare_extraction

    def dated(*args, **kwargs):
        document = bare_extraction(*args, **kwargs)
        document.date = date
        return document

    monkeypatch.setattr(trafilatura, "bare_extraction", dated)
    result = extract(COMMENTS_PAGE, "https://herald.example/news/2024/01/harbour-reopens")
    assert result is not None and result.date == expected
