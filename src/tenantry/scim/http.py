"""HTTP details of SCIM: JSON bodies, ETags and conditional requests, resource answers."""

from typing import Any

from fastapi import Request, Response
from scim2_models import InvalidSyntaxException, PreconditionFailedException

from tenantry.runtime import runtime_of
from tenantry.scim.errors import ScimResponse
from tenantry.web.json_body import decode_json

_JSON_TYPES = ("application/scim+json", "application/json")


async def read_json(request: Request) -> Any:
    """The request's JSON body; SCIM clients send ``application/scim+json`` or ``application/json``."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise InvalidSyntaxException(detail=f"the body must be JSON ({_JSON_TYPES[0]}), not {media_type}")
    return decode_json(await request.body())


def known_schemas(payload: Any) -> Any:
    """Drop schema URIs that are not URNs from ``schemas``: Entra ID adds a Microsoft one to its groups."""
    if isinstance(payload, dict) and isinstance(payload.get("schemas"), list):
        schemas = [item for item in payload["schemas"] if not isinstance(item, str) or item.lower().startswith("urn:")]
        return {**payload, "schemas": schemas}
    return payload


def base_url(request: Request, org_ref: str) -> str:
    """The SCIM base URL of the organization, as the client addresses it (by id or slug)."""
    return f"{runtime_of(request).settings.base_url}{request.scope.get('root_path', '')}/{org_ref}"


def etag(version: str) -> str:
    return f'W/"{version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def check_if_match(request: Request, current: str) -> None:
    """412 when ``If-Match`` names none of the current version (weak comparison, as RFC 7644 §3.14 uses)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = _tags(header)
    if "*" not in tags and current.removeprefix("W/") not in tags:
        raise PreconditionFailedException(detail="the resource changed since the version given in If-Match")


def not_modified(request: Request, current: str) -> bool:
    header = request.headers.get("if-none-match")
    return header is not None and ("*" in _tags(header) or current.removeprefix("W/") in _tags(header))


def resource_response(body: dict[str, Any], *, version: str, location: str, status: int = 200) -> ScimResponse:
    """A resource, with its ETag and its URL (``Location`` too when it was just created, RFC 7644 §3.3)."""
    headers = {"ETag": version, "Content-Location": location}
    if status == 201:
        headers["Location"] = location
    return ScimResponse(body, status_code=status, headers=headers)


def no_content(version: str | None = None) -> Response:
    return Response(status_code=204, headers={"ETag": version} if version else None)
