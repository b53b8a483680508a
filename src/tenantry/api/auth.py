"""The OAuth 2.0 token endpoint (public by nature: it is where credentials are exchanged)."""

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from tenantry.api.errors import problems
from tenantry.auth.brute_force import client_ip, rate_limited
from tenantry.auth.grants import GRANT_TYPES, Grant, exchange
from tenantry.auth.login import TokenResponse
from tenantry.auth.second_factor import OTP_GRANT, RECOVERY_CODE_GRANT
from tenantry.errors import MalformedBody, OAuthError
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.forms import form_fields, form_or_json_body, media_type
from tenantry.web.headers import NO_STORE
from tenantry.web.json_body import decode_json
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/auth", tags=["auth"], route_class=UnitOfWorkRoute)


class TokenRequest(BaseModel):
    grant_type: Literal[
        "password",
        "refresh_token",
        "urn:tenantry:params:oauth:grant-type:mfa-otp",
        "urn:tenantry:params:oauth:grant-type:mfa-recovery-code",
    ]
    username: str | None = Field(default=None, max_length=320, description="Email (password grant).")
    password: str | None = Field(default=None, max_length=1024, description="Password (password grant).")
    refresh_token: str | None = Field(default=None, max_length=200, description="Refresh token (refresh grant).")
    mfa_token: str | None = Field(default=None, max_length=200, description="From `mfa_required` (mfa grants).")
    otp: str | None = Field(default=None, max_length=16, description="Authenticator app code (mfa-otp grant).")
    recovery_code: str | None = Field(default=None, max_length=32, description="Recovery code (mfa-recovery-code).")


_BODY_SCHEMA = TokenRequest.model_json_schema()


async def _read_fields(request: Request) -> dict[str, Any]:
    try:
        fields = await form_fields(request)
        if fields is not None:
            return fields
        if media_type(request) != "application/json":
            raise OAuthError("invalid_request", "send the parameters form-encoded or as a JSON object")
        decoded = decode_json(await request.body())
    except MalformedBody as error:
        raise OAuthError("invalid_request", error.detail) from None
    if not isinstance(decoded, dict):
        raise OAuthError("invalid_request", "the body must be a JSON object")
    return decoded


def _parse(fields: dict[str, Any]) -> TokenRequest:
    if not fields.get("grant_type"):
        raise OAuthError("invalid_request", "missing parameter(s): grant_type")
    if fields["grant_type"] not in GRANT_TYPES:
        raise OAuthError("unsupported_grant_type", f"grant_type must be one of: {', '.join(GRANT_TYPES)}")
    try:
        parsed = TokenRequest.model_validate(fields)
    except ValidationError as error:
        names = sorted({str(item["loc"][0]) for item in error.errors() if item["loc"]})
        raise OAuthError("invalid_request", f"invalid parameter(s): {', '.join(names)}") from None
    needed = {
        "password": ("username", "password"),
        "refresh_token": ("refresh_token",),
        OTP_GRANT: ("mfa_token", "otp"),
        RECOVERY_CODE_GRANT: ("mfa_token", "recovery_code"),
    }[parsed.grant_type]
    missing = [name for name in needed if not getattr(parsed, name)]
    if missing:
        raise OAuthError("invalid_request", f"missing parameter(s): {', '.join(missing)}")
    return parsed


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=problems(400, 429),
    openapi_extra={"requestBody": form_or_json_body(_BODY_SCHEMA, required=True)},
)
async def token(
    request: Request, session: DbSession, runtime: AppRuntime, _: None = Depends(rate_limited("token"))
) -> JSONResponse:
    """Exchange a password, a refresh token or a second factor for tokens (OAuth 2.0, form-encoded or JSON)."""
    parsed = _parse(await _read_fields(request))
    grant = Grant(**{name: value or "" for name, value in parsed.model_dump().items()})
    tokens = await exchange(session, runtime, grant, client_ip(request))
    return JSONResponse(tokens.model_dump(), headers=NO_STORE)
