"""URLs that come from outside (a form, a header, a query): read without answering 500.

``urllib.parse.urlsplit`` raises ``ValueError`` on some text (an unclosed ``[`` of an IPv6 host), which a
request must answer as bad input, never as an error of ours.
"""

from urllib.parse import SplitResult, urlsplit


def split_url(text: str) -> SplitResult | None:
    """``text`` split into its parts, or None when ``urlsplit`` cannot read it."""
    try:
        return urlsplit(text)
    except ValueError:
        return None
