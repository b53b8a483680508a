"""Request bodies that come as a form or as JSON (the token endpoints take either)."""

from typing import Any

from fastapi import Request

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def media_type(request: Request) -> str:
    """The request's content type, without its parameters, in lower case."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def form_fields(request: Request) -> dict[str, str] | None:
    """The text fields of a form-encoded body; None when the body is not a form."""
    if media_type(request) not in FORM_TYPES:
        return None
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def form_or_json_body(schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """The OpenAPI request body of an endpoint taking ``schema`` form-encoded or as a JSON object."""
    content = {"application/x-www-form-urlencoded": {"schema": schema}, "application/json": {"schema": schema}}
    return {"required": required, "content": content}
