"""XML from the web is parsed without trusting it: what lxml would accept but a list or a sitemap
never needs is refused, with the reason."""

from __future__ import annotations

import pytest

from connectors.xml import XmlRefused, parse_xml


def test_a_plain_document_gives_its_root_without_comments():
    root = parse_xml(b"<?xml version='1.0'?><urlset><!-- note --><url><loc>https://x.example/</loc></url></urlset>")
    assert root.tag == "urlset" and [child.tag for child in root] == ["url"]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "not well-formed XML"),
    (b"<urlset><url></urlset>", "not well-formed XML: line 1"),
    (b'<!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>', "it declares XML entities"),
    (b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>', "it names an external DTD (http://127.0.0.1:9/evil.dtd)"),
    (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>', "it declares XML entities"),
])
def test_what_a_list_or_sitemap_never_needs_is_refused_with_its_reason(data, reason):
    with pytest.raises(XmlRefused, match="^" + reason.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_xml(data)
