"""Answering an organization's invitation to join it: from the mailed link, or on "My account".

Opening the link (GET) only shows who asks; the click on the page (POST, accept or decline) answers,
once. On "My account" the signed-in user answers the invitations waiting for them.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.flows.context import DeadToken
from tenantry.core.memberships import joining
from tenantry.errors import NotFound, PermissionDenied
from tenantry.i18n import _
from tenantry.runtime import get_session
from tenantry.ui.pages import (
    PageRoute,
    dead_link,
    field,
    message,
    read_form,
    render,
    use_org,
    use_user_locale,
)
from tenantry.ui.session import AccountForm, AccountHolder, page_actor

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
Token = Annotated[str, Query(max_length=200)]
ANSWERS = {"accept": True, "decline": False}


def _answered(request: Request, org_name: str, accepted: bool) -> Response:
    if accepted:
        text = _("You are now a member of %(org)s.") % {"org": org_name}
        return message(request, _("Invitation accepted"), text, account="/ui/account")
    text = _("%(org)s was told no; it keeps nothing of your account.") % {"org": org_name}
    return message(request, _("Invitation declined"), text)


@router.get("/join")
async def invitation_page(
    request: Request, token: Token = "", session: AsyncSession = Depends(get_session)
) -> Response:
    """Invitation link: who asks, with accept and decline buttons."""
    invitation = await joining.find_link(session, token)
    if invitation is None:
        return dead_link(request)
    use_user_locale(invitation.locale)
    await use_org(request, session, invitation.org)
    return render(request, "join.html", {"org": {"name": request.state.brand.name}, "token": token})


@router.post("/join")
async def answer_invitation(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Accept or decline the invitation the link names; the link works once."""
    form = await read_form(request)
    accepted = ANSWERS.get(field(form, "answer", 10))
    if accepted is None:
        return message(request, _("Choose an answer"), _("Accept or decline the invitation."), 400)
    invitation = await joining.find_link(session, field(form, "token", 200))
    if invitation is not None:
        use_user_locale(invitation.locale)
    try:
        org = await joining.answer_link(session, page_actor(request), field(form, "token", 200), accept=accepted)
    except DeadToken:
        return dead_link(request)
    await use_org(request, session, org)
    return _answered(request, request.state.brand.name, accepted)


@router.post("/account/invitations")
async def answer_on_account(
    request: Request, current: AccountHolder, form: AccountForm, session: AsyncSession = Depends(get_session)
) -> Response:
    """Accept or decline, on "My account", an organization's invitation waiting for you."""
    accepted = ANSWERS.get(field(form, "answer", 10))
    if accepted is None:
        text = _("Accept or decline the invitation.")
        return message(request, _("Choose an answer"), text, 400, account="/ui/account")
    actor = page_actor(request, current.user)
    try:
        org = await joining.answer(session, actor, current.user, field(form, "org", 100), accept=accepted)
    except (NotFound, PermissionDenied):
        text = _("This organization has no invitation waiting for your answer.")
        return message(request, _("No such invitation"), text, 404, account="/ui/account")
    await use_org(request, session, org)
    return _answered(request, request.state.brand.name, accepted)
