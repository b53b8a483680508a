"""``POST /api/auth/auth/token``: telm's token endpoint on the core's sign-in (public by nature).

Fields come as query parameters, form fields or a JSON object, in snake_case or camelCase (``grantType``,
``refreshToken``); the body wins over the query string. Brute-force defence and rate limits are the
native endpoint's, shared with it. ``tenant`` (optional) refuses the sign-in unless the user is an active
member of that tenant; the tokens are the user's, as the native endpoint's are.
"""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import access_tokens
from tenantry.auth.brute_force import client_ip, rate_limited
from tenantry.auth.grants import Grant, exchange
from tenantry.auth.login import TokenResponse
from tenantry.auth.second_factor import without_second_step
from tenantry.core.memberships import service as memberships
from tenantry.core.orgs import service as orgs
from tenantry.core.users.service import displayed_status
from tenantry.dialects.telm.errors import documented
from tenantry.dialects.telm.schemas import TokenOut
from tenantry.errors import FieldError, InvalidInput, NotFound, OAuthError
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.web.forms import form_fields, form_or_json_body
from tenantry.web.headers import NO_STORE
from tenantry.web.json_body import decode_json
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/api/auth/auth", tags=["authentication"], route_class=UnitOfWorkRoute)

_CAMEL_CASE = {"grantType": "grant_type", "refreshToken": "refresh_token"}
_NEEDED = {"password": ("username", "password"), "refresh_token": ("refresh_token",)}
_NOT_IN_TENANT = "the user does not belong to this tenant"


class TokenRequest(BaseModel):
    grant_type: Literal["password", "refresh_token"] = Field(description="Also accepted as `grantType`.")
    username: str | None = Field(default=None, max_length=320, description="Email (password grant).")
    password: str | None = Field(default=None, max_length=1024, description="Password (password grant).")
    refresh_token: str | None = Field(
        default=None, max_length=200, description="Refresh token (refresh grant); also `refreshToken`."
    )
    tenant: str | None = Field(default=None, max_length=100, description="Only sign in as a member of this tenant.")


_BODY_SCHEMA = TokenRequest.model_json_schema()
_QUERY_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in ("grant_type", "grantType", "username", "password", "refresh_token", "refreshToken", "tenant")
]


async def _body_fields(request: Request) -> dict[str, Any]:
    form = await form_fields(request)
    if form is not None:
        return form
    body = await request.body()
    if not body.strip():
        return {}
    fields = decode_json(body)
    if not isinstance(fields, dict):
        raise InvalidInput([FieldError("body", "must be a JSON object")])
    return fields


async def _token_request(request: Request) -> TokenRequest:
    fields: dict[str, Any] = {}
    for source in (dict(request.query_params), await _body_fields(request)):
        for name, value in source.items():
            if value not in (None, ""):
                fields[_CAMEL_CASE.get(name, name)] = value
    try:
        parsed = TokenRequest.model_validate(fields)
    except ValidationError as error:
        raise InvalidInput(
            [FieldError(str(item["loc"][0]) if item["loc"] else "body", item["msg"]) for item in error.errors()]
        ) from None
    missing = [FieldError(name, "Field required") for name in _NEEDED[parsed.grant_type] if not getattr(parsed, name)]
    if missing:
        raise InvalidInput(missing)
    return parsed


def _grant(request: TokenRequest) -> Grant:
    return Grant(request.grant_type, request.username or "", request.password or "", request.refresh_token or "")


async def _ensure_member(session: AsyncSession, runtime: Runtime, tokens: TokenResponse, tenant: str) -> None:
    """Refuse the sign-in (nothing it did is kept) unless the user is active in ``tenant``."""
    claims = await access_tokens.verify(runtime.keyring, runtime.settings, tokens.access_token)
    try:
        member = await memberships.get(session, await orgs.get(session, tenant), claims.subject)
    except NotFound:
        raise OAuthError("invalid_grant", _NOT_IN_TENANT) from None
    if displayed_status(member.user, member.membership) != "active":
        raise OAuthError("invalid_grant", _NOT_IN_TENANT)


@router.post(
    "/token",
    response_model=TokenOut,
    responses=documented(401, 403, 422, 429),
    openapi_extra={
        "parameters": _QUERY_PARAMETERS,
        "requestBody": form_or_json_body(_BODY_SCHEMA, required=False),
    },
)
async def token(
    request: Request,
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
    _: None = Depends(rate_limited("token")),
) -> JSONResponse:
    """Exchange a password or a refresh token for tokens (public: this is where credentials are exchanged)"""
    grant = await _token_request(request)
    try:
        tokens = await exchange(session, runtime, _grant(grant), client_ip(request))
    except OAuthError as error:
        raise without_second_step(error) from None
    if grant.tenant is not None:
        await _ensure_member(session, runtime, tokens, grant.tenant)
    answer = TokenOut(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires=tokens.expires_in,
        token_type=tokens.token_type,
    )
    return JSONResponse(answer.model_dump(), headers=NO_STORE)
