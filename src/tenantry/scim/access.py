"""Who may call the SCIM endpoints, and the parameters every resource answer takes."""

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from scim2_models import ResponseParameters

from tenantry.auth.policy import Policy, org_member
from tenantry.scim.errors import scim_error

PROVISION = org_member(Policy("scim:provision", impersonation=False), path_param="org")
"""Every SCIM route: an organization API key (or member) holding ``scim:provision`` there."""


def response_parameters(request: Request, model: Any) -> ResponseParameters[Any] | None:
    """``attributes`` / ``excludedAttributes`` of the query (RFC 7644 §3.9)."""
    given = {
        key: request.query_params[key] for key in ("attributes", "excludedAttributes") if key in request.query_params
    }
    if not given:
        return None
    try:
        return ResponseParameters[model].model_validate(given)
    except ValidationError as error:
        raise scim_error(error) from error
