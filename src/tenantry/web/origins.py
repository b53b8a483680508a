"""The Origin check of every form the pages and the console post (beside their CSRF token)."""

from fastapi import Request

from tenantry.urls import split_url


def foreign_origin(request: Request, base_url: str) -> bool:
    """Whether the request's ``Origin`` (when sent, and not ``null``) is neither this service's public URL nor
    the host it was asked at. An origin no URL parser reads is foreign."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return False
    ours, theirs = split_url(base_url), split_url(origin)
    if theirs is None or ours is None:
        return True
    return (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc) and theirs.netloc != request.url.netloc
