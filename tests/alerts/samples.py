"""Realistic alerts for rendering and channel tests: markup and injection in headlines, Turkish
and Arabic text, an unknown date, very long texts, and a digest."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from newswatch.models import Alert

__all__ = ["ALERTS", "DIGEST", "spans"]


def spans(snippet: str, *words: str) -> list[tuple[int, int]]:
    """(start, end) of the first occurrence of each word in `snippet`."""
    found = []
    for word in words:
        start = snippet.index(word)
        found.append((start, start + len(word)))
    return found


_ESCAPING_SNIPPET = ("Acme & Sons said on Tuesday that <b>quarterly</b> profits rose 50% — the "
                     "*best* quarter since 2019 — as demand for its <widgets> & gadgets > "
                     "forecasts.")

_TURKISH_SNIPPET = ("Kandilli Rasathanesi'ne göre İstanbul'da hissedilen depremin merkez üssü "
                    "Silivri açıkları oldu. Çağlayan ve Şişli'de vatandaşlar sokağa döküldü; AFAD "
                    "hasar tespit çalışmalarını sürdürüyor.")

_ARABIC_SNIPPET = ("قالت منظمة أوبك+ يوم الأحد إنها ستخفض إنتاج النفط بمقدار مليون برميل يوميا "
                   "اعتبارا من مايو، في خطوة فاجأت الأسواق.")

_LONG_SNIPPET = " ".join(
    f"Paragraph {n}: Acme & partners <expanded> the *network* in region {n}, said officials."
    for n in range(80))  # about 6,500 characters, most of them past every channel's limit

ALERTS: dict[str, Alert] = {
    "escaping": Alert(
        watchlist="acme", story_id=101,
        title="Acme & Sons' <b>record</b> Q3: *profits* up_50% | shares > $10\r\n"
              "Bcc: attacker@example.com",
        url="https://news.example.com/business/acme-q3?utm_source=rss&id=42",
        source="Reuters", published=datetime(2026, 3, 14, 9, 30, tzinfo=timezone.utc),
        terms=["acme", "profit*"], snippet=_ESCAPING_SNIPPET,
        highlights=spans(_ESCAPING_SNIPPET, "Acme", "profits", "<widgets>"),
        also_reported_by=["AP", "BBC News", "Le Monde"], delivery_id=1,
        also_reports=(("AP", "https://apnews.example/article/acme?a=1&b=<2>"),
                      ("BBC News", "https://www.bbc.example/news/business-1|2 \"x\""),
                      ("Le Monde", "javascript:alert(1)")),
    ),
    "turkish": Alert(
        watchlist="deprem", story_id=202,
        title="İstanbul'da 5,1 büyüklüğünde deprem: AFAD ilk açıklamayı yaptı",
        url="https://www.hurriyet.example/gundem/istanbul-deprem-41234567",
        source="Hürriyet",
        published=datetime(2026, 4, 23, 15, 49, tzinfo=timezone(timedelta(hours=3))),
        terms=["istanbul", "deprem*"], snippet=_TURKISH_SNIPPET,
        highlights=spans(_TURKISH_SNIPPET, "İstanbul", "depremin"),
        also_reported_by=["Sözcü"], delivery_id=2,
        also_reports=(("Sözcü", "https://www.sozcu.example/gundem/istanbul-deprem"),),
    ),
    "arabic": Alert(
        watchlist="energy", story_id=303,
        title="أوبك+ تتفق على خفض إنتاج النفط بمقدار مليون برميل يوميا",
        url="https://www.aljazeera.example/economy/2026/4/2/opec-cut",
        source="الجزيرة", published=None,
        terms=["أوبك", "النفط"], snippet=_ARABIC_SNIPPET,
        highlights=spans(_ARABIC_SNIPPET, "أوبك+", "النفط"),
        also_reported_by=[], delivery_id=3,
    ),
    "long": Alert(
        watchlist="acme", story_id=404,
        title=" ".join(["Acme & partners expand the <network> across every region"] * 8),
        url="https://news.example.com/" + "very-long-path/" * 20 + "?a=1&b=2",
        source="Example Daily", published=datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc),
        terms=["acme", "network"], snippet=_LONG_SNIPPET,
        highlights=[(m, m + 4) for m in range(0, len(_LONG_SNIPPET)) if
                    _LONG_SNIPPET.startswith("Acme", m)],
        also_reported_by=[f"Outlet {n}" for n in range(1, 26)], delivery_id=4,
        also_reports=tuple((f"Outlet {n}", f"https://outlet{n}.example/" + "long-path/" * 20 + f"?n={n}")
                           for n in range(1, 26)),
    ),
}

DIGEST: list[Alert] = [
    ALERTS["escaping"],
    Alert(watchlist="acme", story_id=102, title="Acme opens a plant in İzmir",
          url="https://news.example.com/acme-izmir", source="Anadolu Ajansı",
          published=datetime(2026, 3, 14, 11, 0, tzinfo=timezone.utc), terms=["acme"],
          snippet="Acme will employ 400 people at the new İzmir plant.",
          highlights=[(0, 4)], also_reported_by=[], delivery_id=5),
    Alert(watchlist="acme", story_id=103, title="Regulator fines Acme over <widget> recall",
          url="javascript:alert(1)", source="Financial Example", published=None,
          terms=["acme"], snippet="The regulator fined Acme €2m.", highlights=[(20, 24)],
          also_reported_by=["AP"], delivery_id=6),
]
