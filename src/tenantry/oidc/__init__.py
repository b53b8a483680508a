"""The OpenID provider: discovery, authorization, token, userinfo, revocation, introspection, logout."""
