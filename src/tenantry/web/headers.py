"""Response headers more than one surface sets."""

# Answers that carry a token, a key or a code are never cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def attachment(filename: str) -> dict[str, str]:
    """Headers of a download of an organization's data (members, an import's failed rows): saved as ``filename``,
    kept by no cache, a browser's or a proxy's."""
    return {"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE}


# Public documents a browser app reads from its own origin (discovery, JWKS): any origin, never credentials.
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
