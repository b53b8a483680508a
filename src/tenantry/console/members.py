"""The members list: search as you type, status and role filters, a total, keyset pages, and Invite."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import ValidationError

from tenantry.auth.policy import Policy
from tenantry.console.forms import field_error, field_errors, text_field, translated
from tenantry.console.pages import Console, ConsoleRoute, console_access, is_htmx
from tenantry.core.fields import StorableStr
from tenantry.core.roles import service as roles
from tenantry.core.users import service as users
from tenantry.core.users.schemas import UserCreate
from tenantry.db.ids import is_id
from tenantry.errors import Conflict, InvalidInput
from tenantry.i18n import _

router = APIRouter(prefix="/console/{org}", route_class=ConsoleRoute, include_in_schema=False)
PAGE_SIZE = 50
COUNT_CAP = 10_000
"""A filtered list counts its matches up to here ("more than 10,000" beyond): an exact count of a broad
filter in a large organization would cost more than the page."""
Search = Annotated[StorableStr, Query(max_length=200)]
StatusChoice = Annotated[Literal["", "active", "disabled", "invited"], Query()]
RoleChoice = Annotated[StorableStr, Query(max_length=64)]
After = Annotated[str, Query(max_length=24)]


async def _members_page(console: Console, status_code: int = 200, **context: Any) -> Response:
    """The whole page, or (for the search box's htmx requests) just the results."""
    request, session = console.request, console.session
    params = request.query_params
    q, status, role = params.get("q", "")[:200].strip(), params.get("status", ""), params.get("role", "")[:64]
    after = params.get("after", "")
    status = status if status in ("active", "disabled", "invited") else ""
    org_roles = await roles.list_for_org(session, console.org.id)
    role = role if any(found.name == role for found in org_roles) else ""
    where = {"q": q or None, "status": status or None, "role": role or None}
    members, next_after = await users.page(
        session, console.org, **where, after=after if is_id(after) else None, limit=PAGE_SIZE
    )
    if after or next_after:
        total = await users.count(session, console.org, **where, cap=COUNT_CAP)
    else:  # the first page holds every match: no second walk of the organization to count them
        total = len(members)
    page = {
        "members": [users.member_out(member) for member in members],
        "total": total,
        "total_capped": total > COUNT_CAP,
        "next_after": next_after,
        "filters": {"q": q, "status": status, "role": role},
        "roles": org_roles,
        "notice_text": _("The member is removed.") if params.get("notice") == "removed" else None,
        **context,
    }
    partial = is_htmx(request) and request.headers.get("hx-target") == "member-results"
    return console.render("member_results.html" if partial else "members.html", page, status_code)


@router.get("/members")
async def members_page(
    console: Console = Depends(console_access(Policy("users:read", partner=True))),
    q: Search = "",
    status: StatusChoice = "",
    role: RoleChoice = "",
    after: After = "",
) -> Response:
    """The organization's members: search, filters, a total and pages of 50 (read-only without rights)."""
    return await _members_page(console)


@router.post("/members")
async def invite_member(
    console: Console = Depends(console_access(Policy("users:create", impersonation=False, partner=True))),
) -> Response:
    """Invite someone: an invited member with the roles chosen, mailed a link to set their password."""
    form = await console.form()
    runtime = console.runtime
    values = {name: text_field(form, name, 320) for name in ("email", "first_name", "last_name")}
    chosen = [value for value in form.getlist("roles") if isinstance(value, str)][:50]
    try:
        payload = UserCreate(**values, roles=chosen or None)
        member = await users.create(
            console.session, console.access.actor, console.org, payload, runtime.passwords, invite_with=runtime.flows
        )
    except (ValidationError, InvalidInput) as error:
        page = {"errors": field_errors(error), "values": values, "invite_open": True}
        return await _members_page(console, 400, **page)
    except Conflict as error:
        page = {
            "errors": {"email": field_error("email", translated(error.detail))},
            "values": values,
            "invite_open": True,
        }
        return await _members_page(console, 409, **page)
    return console.go(f"/console/{console.org.slug}/members/{member.user.id}?notice=invited")
