"""A generated news web for the fetch benchmark: N feeds × M items, each item an article page.

What it builds (deterministic for a seed; nothing is written to disk):
- feed i is an RSS 2.0 document at http://HOST(i):PORT/f{i}/feed.xml holding M items (title, link,
  guid, pubDate, a one-sentence description); HOST(i) is a loopback address of its own
  (127.1.x.y), so politeness limits per host act as they would on real sites;
- item j of feed i links to /f{i}/a{j}.html on the same host: an article page of 30–80 KB with
  what real news pages carry around the text: <head> metadata (Open Graph, JSON-LD, canonical),
  an inline script and style block, a header with ~60 navigation links, a breadcrumb, the article
  (title, byline, <time>, 6–18 paragraphs, a figure), a "most read" sidebar, related links, a
  comments section (4–16 comments), a newsletter form and a footer of ~80 links;
- the article text is English news prose made from the ECB+ corpus
  (../shared/data/ecbplus-event-clusters, CC BY 3.0, read at run time): a base document plus
  sentences of other reports of the same topic type, with MUTATE of the words replaced by words
  drawn from the corpus and every name (a capitalised word that is not a common word) replaced,
  consistently within the article, by a name drawn from the corpus's names: two generated
  articles share sentence shapes and vocabulary but neither passages nor the people and places
  of one event (ECB+ holds only 86 events; kept, they made 4,000 articles into 88 stories);
- DUP_SHARE of the items are near-duplicates: another feed's article republished (syndication)
  with the same title and text, one paragraph dropped and a different site chrome;
- TOPIC_SHARE of the items mention a watch topic (TOPICS) in the body; COMMENT_SHARE mention one
  only in a reader comment (a pipeline that keeps comments alerts on those, wrongly);
- every resource has an ETag (hash of the body) and a Last-Modified date, for conditional GET.

    corpus = Corpus(feeds=200, items=20)
    site = corpus.build(port=8080)          # {path: Resource}; ~50 KB × N × M of memory
    corpus.feed_url(0, port=8080)
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import cached_property
from html import escape
from pathlib import Path

__all__ = ["Corpus", "Resource", "TOPICS", "ECB"]

ECB = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecbplus-event-clusters" / "documents.jsonl"
DUP_SHARE = 0.10
TOPIC_SHARE = 0.05
COMMENT_SHARE = 0.01
MUTATE = 0.3
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z]+\b")

# Watch topics: (watchlist name, newswatch query, substring keywords for the baselines, sentences
# that put the topic into an article). The ECB+ articles (2006–2013) mention none of them.
TOPICS = [
    ("idlib", '@idlib OR "Sochi agreement"', ["idlib", "sochi agreement"], [
        "Shelling resumed overnight around Idlib, where the Sochi agreement was meant to hold a ceasefire.",
        "Turkish officials said observation posts near Idlib would stay under the Sochi agreement.",
    ]),
    ("grain-deal", '"grain deal" OR "Black Sea Grain Initiative"', ["grain deal", "black sea grain initiative"], [
        "Negotiators in Istanbul said the grain deal could be extended for another 120 days.",
        "Ships left Odesa under the Black Sea Grain Initiative despite the new threats.",
    ]),
    ("corridor", '"humanitarian corridor" NEAR/5 (opened OR closed OR agreed)', ["humanitarian corridor"], [
        "A humanitarian corridor was opened on Tuesday for civilians leaving the besieged town.",
        "Aid agencies said the humanitarian corridor was closed again after two hours.",
    ]),
    ("wagner", '"Wagner Group" OR (Wagner AND mercenar*)', ["wagner group", "wagner"], [
        "Fighters of the Wagner Group were seen moving north, according to local residents.",
        "The Wagner mercenaries withdrew from the airport, a spokesman said.",
    ]),
]
ALIASES = {"idlib": ["Idlib", "İdlib", "Idleb", "إدلب"]}

_SECTIONS = ["World", "Politics", "Business", "Technology", "Science", "Health", "Sport", "Culture",
             "Opinion", "Travel", "Climate", "Education", "Media", "Law", "Cities", "Europe", "Americas",
             "Asia", "Africa", "Middle East"]
_FIRST = ["Anna", "Mehmet", "Laura", "James", "Olga", "Karim", "Sofia", "Daniel", "Aylin", "Tom", "Maria", "Li"]
_LAST = ["Kaya", "Smith", "Novak", "Haddad", "Garcia", "Okafor", "Müller", "Rossi", "Chen", "Yılmaz", "Brown"]
_WORDS = ("data session config analytics tracker consent banner adslot render viewport lazy hydrate "
          "bundle module chunk prefetch metric beacon").split()


@dataclass(frozen=True)
class Resource:
    """One URL's response: body and the caching validators the server answers conditional GETs with."""

    body: bytes
    content_type: str
    etag: str
    last_modified: str


@dataclass(frozen=True)
class Corpus:
    """N feeds × M items; `hosts` distinct loopback addresses (0: one per feed)."""

    feeds: int
    items: int
    seed: int = 7
    hosts: int = 0
    now: datetime = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)

    def host(self, feed: int) -> str:
        """The loopback address that serves feed `feed` and its articles."""
        slot = feed % self.hosts if self.hosts else feed
        return f"127.1.{slot // 250}.{slot % 250 + 1}"

    def all_hosts(self) -> list[str]:
        return sorted({self.host(i) for i in range(self.feeds)})

    def feed_url(self, feed: int, port: int) -> str:
        return f"http://{self.host(feed)}:{port}/f{feed}/feed.xml"

    def article_url(self, feed: int, item: int, port: int) -> str:
        return f"http://{self.host(feed)}:{port}/f{feed}/a{item}.html"

    def build(self, port: int) -> dict[str, Resource]:
        """Every path of the site, feeds and pages, with their bodies and validators."""
        site: dict[str, Resource] = {}
        for feed in range(self.feeds):
            articles = [self.article(feed, item) for item in range(self.items)]
            for item, article in enumerate(articles):
                page = self._page(feed, item, article, port)
                site[f"/f{feed}/a{item}.html"] = _resource(page, "text/html; charset=utf-8", article["date"])
            feed_xml = self._feed(feed, articles, port)
            site[f"/f{feed}/feed.xml"] = _resource(feed_xml, "application/rss+xml; charset=utf-8", self.now)
        return site

    # -- articles -------------------------------------------------------------------------------

    def article(self, feed: int, item: int) -> dict:
        """Title, paragraphs, comments, date, author and whether it is a copy or on a topic."""
        rng = self._rng(feed, item)
        kind = rng.random()
        if kind < DUP_SHARE and self.feeds > 1:
            other = (feed + 1 + rng.randrange(self.feeds - 1)) % self.feeds
            original = self.article(other, rng.randrange(self.items)) if other != feed else None
            if original is not None and original["copy_of"] is None:
                paragraphs = list(original["paragraphs"])
                del paragraphs[rng.randrange(len(paragraphs))]
                return {**original, "paragraphs": paragraphs, "copy_of": original["id"],
                        "id": f"{feed}/{item}", "comments": self._comments(rng, None)}
        document = self._documents[rng.randrange(len(self._documents))]
        sentences = list(document["sentences"])
        kin = self._by_topic[document["topic"]]
        while sum(len(s) for s in sentences) < rng.randint(2500, 6500):
            sentences.extend(kin[rng.randrange(len(kin))]["sentences"][1:4])
        names: dict[str, str] = {}
        sentences = [self._mutate(rng, sentence, names) for sentence in sentences]
        topic = None
        if TOPIC_SHARE + DUP_SHARE > kind >= DUP_SHARE:
            topic = TOPICS[rng.randrange(len(TOPICS))]
            sentences.insert(rng.randint(1, len(sentences)), rng.choice(topic[3]))
        comment_topic = None
        if TOPIC_SHARE + DUP_SHARE + COMMENT_SHARE > kind >= TOPIC_SHARE + DUP_SHARE:
            comment_topic = TOPICS[rng.randrange(len(TOPICS))]
        paragraphs, at = [], 1
        while at < len(sentences):
            size = rng.randint(2, 4)
            paragraphs.append(" ".join(sentences[at:at + size]))
            at += size
        return {
            "id": f"{feed}/{item}", "copy_of": None, "title": sentences[0][:110].rstrip(" .,"),
            "paragraphs": paragraphs[:18], "comments": self._comments(rng, comment_topic),
            "topic": topic[0] if topic else None, "comment_topic": comment_topic[0] if comment_topic else None,
            "date": self.now - timedelta(minutes=rng.randrange(60 * 24)),
            "author": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        }

    def expected_topics(self) -> dict[str, tuple[int, int]]:
        """Watchlist name → (articles on that topic in their body, how many of them are copies)."""
        found = {name: [0, 0] for name, *_ in TOPICS}
        for feed in range(self.feeds):
            for item in range(self.items):
                article = self.article(feed, item)
                if article["topic"]:
                    found[article["topic"]][0] += 1
                    found[article["topic"]][1] += article["copy_of"] is not None
        return {name: (total, copies) for name, (total, copies) in found.items()}

    def _comments(self, rng: random.Random, topic) -> list[tuple[str, str]]:
        comments = []
        for _ in range(rng.randint(4, 16)):
            document = self._documents[rng.randrange(len(self._documents))]
            text = self._mutate(rng, " ".join(document["sentences"][1:rng.randint(2, 4)]) or document["sentences"][0], {})
            comments.append((f"{rng.choice(_FIRST).lower()}{rng.randrange(1000)}", text))
        if topic is not None:
            comments[rng.randrange(len(comments))] = ("reader42", rng.choice(topic[3]))
        return comments

    def _mutate(self, rng: random.Random, sentence: str, names: dict[str, str]) -> str:
        common, vocabulary = self._common, self._vocabulary

        def rename(match: re.Match) -> str:
            word = match.group(0)
            if word.lower() in common:
                return word
            if word not in names:
                names[word] = self._names[rng.randrange(len(self._names))]
            return names[word]

        words = _CAPITALISED.sub(rename, sentence).split(" ")
        for at in range(len(words)):
            if words[at].isalpha() and words[at].islower() and rng.random() < MUTATE:
                words[at] = vocabulary[rng.randrange(len(vocabulary))]
        return " ".join(words)

    def _rng(self, feed: int, item: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + feed * 10_007 + item)

    @cached_property
    def _documents(self) -> list[dict]:
        documents = []
        for line in ECB.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            sentences = [s.strip() for s in record["text"].split("\n") if len(s.split()) >= 4]
            if len(sentences) >= 4:
                documents.append({"topic": record["topic"], "sentences": sentences})
        return documents

    @cached_property
    def _vocabulary(self) -> list[str]:
        """Every lowercase word of the corpus, with repeats: drawn from, it keeps word frequencies."""
        return [w for d in self._documents for s in d["sentences"] for w in s.split(" ") if w.isalpha() and w.islower()]

    @cached_property
    def _common(self) -> frozenset[str]:
        return frozenset(self._vocabulary)

    @cached_property
    def _names(self) -> list[str]:
        """The corpus's distinct names: capitalised words that are never written in lowercase."""
        return sorted({w for d in self._documents for s in d["sentences"] for w in _CAPITALISED.findall(s)
                       if w.lower() not in self._common})

    @cached_property
    def _by_topic(self) -> dict[int, list[dict]]:
        grouped: dict[int, list[dict]] = {}
        for document in self._documents:
            grouped.setdefault(document["topic"], []).append(document)
        return grouped

    # -- rendering ------------------------------------------------------------------------------

    def _feed(self, feed: int, articles: list[dict], port: int) -> bytes:
        site = f"http://{self.host(feed)}:{port}"
        items = []
        for item, article in enumerate(articles):
            items.append(
                f"<item><title>{escape(article['title'])}</title>"
                f"<link>{site}/f{feed}/a{item}.html?utm_source=rss&amp;utm_medium=feed</link>"
                f"<guid isPermaLink=\"false\">site{feed}-{item}</guid>"
                f"<pubDate>{format_datetime(article['date'])}</pubDate>"
                f"<author>news@site{feed}.example ({escape(article['author'])})</author>"
                f"<category>{_SECTIONS[(feed + item) % len(_SECTIONS)]}</category>"
                f"<description>{escape(article['paragraphs'][0][:300])}</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>Site {feed} news</title><link>{site}/</link><description>News from site {feed}"
            f"</description><language>en</language><lastBuildDate>{format_datetime(self.now)}</lastBuildDate>"
            + "".join(items) + "</channel></rss>\n"
        ).encode("utf-8")

    def _page(self, feed: int, item: int, article: dict, port: int) -> bytes:
        rng = self._rng(feed, item + 1_000_000)
        site, path = f"http://{self.host(feed)}:{port}", f"/f{feed}/a{item}.html"
        title, author, date = escape(article["title"]), escape(article["author"]), article["date"].isoformat()
        nav = "".join(f'<li><a href="{site}/{s.lower().replace(" ", "-")}/{k}">{s} {k or ""}</a></li>'
                      for k in range(3) for s in _SECTIONS)
        body = "\n".join(f"<p>{escape(p)}</p>" for p in article["paragraphs"])
        figure_at = min(2, len(article["paragraphs"]))
        paragraphs = body.split("\n")
        paragraphs.insert(figure_at, f'<figure><img src="{site}/img/{item}.jpg" alt="" width="800">'
                                     f"<figcaption>Photo: agency / {author}</figcaption></figure>")
        teasers = "".join(f'<li><a href="{site}/f{feed}/a{(item + k) % max(1, self.items)}.html">'
                          f"{escape(self._documents[rng.randrange(len(self._documents))]['sentences'][0][:90])}"
                          "</a></li>" for k in range(1, 11))
        comments = "".join(f'<li class="comment"><div class="comment-author">{escape(name)}</div>'
                           f'<time datetime="{date}">2 hours ago</time><p>{escape(text)}</p>'
                           '<a href="#reply">Reply</a> <a href="#report">Report</a></li>'
                           for name, text in article["comments"])
        footer = "".join(f'<li><a href="{site}/about/{k}">{w.title()} {k}</a></li>'
                         for k, w in enumerate(_WORDS * 5))
        script = _script(rng, rng.randint(12_000, 45_000))
        canonical = f"{site}{path}"
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": article["title"],
                         "datePublished": date, "author": {"@type": "Person", "name": article["author"]},
                         "mainEntityOfPage": canonical})
        html = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{title} | Site {feed}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="description" content="{escape(article['paragraphs'][0][:160])}">
<meta property="og:title" content="{title}"><meta property="og:type" content="article">
<meta property="og:url" content="{canonical}"><meta property="og:site_name" content="Site {feed}">
<meta property="article:published_time" content="{date}"><meta name="author" content="{author}">
<link rel="canonical" href="{canonical}"><link rel="stylesheet" href="{site}/static/main.css">
<script type="application/ld+json">{ld}</script>
<style>{_style(rng)}</style>
<script>{script}</script>
</head><body class="article-page">
<div id="cookie-banner"><p>We use cookies to improve your experience. <a href="{site}/privacy">Privacy</a></p>
<button>Accept all</button><button>Settings</button></div>
<header class="site-header"><a class="logo" href="{site}/">Site {feed}</a>
<nav class="main-nav"><ul>{nav}</ul></nav>
<form class="search" action="{site}/search"><input name="q" placeholder="Search"><button>Go</button></form></header>
<main><div class="breadcrumb"><a href="{site}/">Home</a> › <a href="{site}/world">World</a> › {title[:40]}</div>
<article class="story">
<h1>{title}</h1>
<div class="byline">By <a rel="author" href="{site}/authors/{item % 7}">{author}</a>,
<time datetime="{date}">{article['date']:%d %B %Y, %H:%M}</time></div>
<div class="share"><a href="#">Share on X</a> <a href="#">Facebook</a> <a href="#">Email</a></div>
<div class="article-body">
{chr(10).join(paragraphs)}
</div>
<div class="tags">Topics: <a href="{site}/t/1">{_SECTIONS[item % 20]}</a> <a href="{site}/t/2">{_SECTIONS[feed % 20]}</a></div>
</article>
<aside class="related"><h2>Related stories</h2><ul>{teasers[:1500]}</ul></aside>
<section id="comments" class="comments"><h2>{len(article['comments'])} comments</h2>
<ol class="comment-list">{comments}</ol>
<form class="comment-form"><textarea name="c"></textarea><button>Post comment</button></form></section>
</main>
<aside class="sidebar"><h2>Most read</h2><ol>{teasers}</ol>
<div class="newsletter"><h3>Get the morning briefing</h3><form><input name="email"><button>Sign up</button></form></div>
<div class="ad" data-slot="sidebar-1"></div></aside>
<footer><ul class="footer-links">{footer}</ul><p>© 2026 Site {feed}. All rights reserved.</p></footer>
</body></html>
"""
        return html.encode("utf-8")


def _resource(body: bytes, content_type: str, modified: datetime) -> Resource:
    etag = '"' + hashlib.blake2b(body, digest_size=8).hexdigest() + '"'
    return Resource(body, content_type, etag, format_datetime(modified.astimezone(timezone.utc), usegmt=True))


def _script(rng: random.Random, size: int) -> str:
    """Minified-looking JavaScript of about `size` characters (real pages inline 10–50 KB)."""
    parts, total = [], 0
    while total < size:
        a, b = rng.choice(_WORDS), rng.choice(_WORDS)
        part = f'window.__{a}_{rng.randrange(999)}=function(e,t){{var n="{b}"+e;return t&&t.{a}?n+t.{a}:n}};'
        parts.append(part)
        total += len(part)
    return "".join(parts)


def _style(rng: random.Random) -> str:
    return "".join(f".{rng.choice(_WORDS)}-{k}{{margin:{k % 9}px;padding:{k % 5}px;color:#{k * 7919 % 4096:03x}}}"
                   for k in range(120))
