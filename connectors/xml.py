"""XML from the web, parsed without trusting it: no network, no DTD, no entity expansion.

lxml with those switches off still accepts a document that declares entities or names an
external DTD (it only leaves them unexpanded or unloaded); a subscription list or a sitemap never
needs either, so `parse_xml` refuses both, as it refuses a document that is not well-formed or
empty. Each refusal is an `XmlRefused` whose message says what was wrong (the parser's line and
reason for a malformed one); the caller names the document.
"""

from __future__ import annotations

from lxml import etree

__all__ = ["XmlRefused", "parse_xml"]


class XmlRefused(ValueError):
    """The document is not one to read; the message says why."""


def parse_xml(data: bytes):  # noqa: ANN201 - an lxml element
    """The document's root element, comments and processing instructions left out."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        error = exc.error_log.last_error
        where = f"line {error.line}, column {error.column}: " if error and error.line else ""
        reason = (error.message if error else str(exc)).strip() or "empty document"
        raise XmlRefused(f"not well-formed XML: {where}{reason}") from None
    if root is None:
        raise XmlRefused("not well-formed XML: empty document")
    info = root.getroottree().docinfo
    if info.internalDTD is not None and any(True for _ in info.internalDTD.iterentities()):
        raise XmlRefused("it declares XML entities")
    if info.system_url:
        raise XmlRefused(f"it names an external DTD ({info.system_url})")
    return root
