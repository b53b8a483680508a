"""Discovery (OpenID Connect Discovery 1.0, RFC 8414): public, so relying parties configure themselves."""

from typing import Any

from fastapi import APIRouter, Depends, Response

from tenantry import i18n
from tenantry.auth.access_tokens import ACR_ONE_FACTOR, ACR_TWO_FACTORS
from tenantry.core.clients.schemas import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, TOKEN_EXCHANGE
from tenantry.runtime import Runtime, get_runtime
from tenantry.web.headers import ANY_ORIGIN

router = APIRouter(tags=["openid connect"])
PREFIX = "/oidc"
SCOPES = ["openid", "email", "profile", "offline_access"]
CLAIMS = [
    *("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "acr", "at_hash", "azp"),
    *("email", "email_verified", "name", "given_name", "family_name", "locale", "org_id", "org_slug"),
]


def metadata(runtime: Runtime) -> dict[str, Any]:
    base, issuer = runtime.settings.base_url, runtime.settings.oidc_issuer
    auth_methods = ["client_secret_basic", "client_secret_post", "none"]
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{base}{PREFIX}/authorize",
        "token_endpoint": f"{base}{PREFIX}/token",
        "userinfo_endpoint": f"{base}{PREFIX}/userinfo",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "revocation_endpoint": f"{base}{PREFIX}/revoke",
        "introspection_endpoint": f"{base}{PREFIX}/introspect",
        "end_session_endpoint": f"{base}{PREFIX}/logout",
        "scopes_supported": SCOPES,
        "claims_supported": CLAIMS,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS, TOKEN_EXCHANGE],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:2],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": [ACR_ONE_FACTOR, ACR_TWO_FACTORS],
        "ui_locales_supported": list(i18n.LANGUAGES),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


@router.get("/.well-known/openid-configuration")
async def openid_configuration(response: Response, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """The OpenID provider's metadata (OpenID Connect Discovery 1.0); issuer = TENANTRY_BASE_URL."""
    response.headers.update(ANY_ORIGIN)  # single-page apps read it from their own origin
    return metadata(runtime)


@router.get("/.well-known/oauth-authorization-server")
async def oauth_authorization_server(response: Response, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """The same metadata for OAuth 2.0 clients (RFC 8414)."""
    response.headers.update(ANY_ORIGIN)
    return metadata(runtime)
