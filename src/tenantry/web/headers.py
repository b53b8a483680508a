"""Response headers more than one surface sets."""

# Answers that carry a token, a key or a code are never cached (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# Public documents a browser app reads from its own origin (discovery, JWKS): any origin, never credentials.
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}
