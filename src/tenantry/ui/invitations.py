"""Answering an organization's invitation to join it: from the mailed link, or on "My account".

Opening the link (GET) only shows who asks; the click on the page (POST, accept or decline) answers,
once. On "My account" the signed-in user answers the invitations waiting for them.

An account whose credentials were not chosen through its mailbox (``core.flows.ownership``: someone else may
know its password) accepts through the link only, choosing a new password first; on "My account" the
link is mailed again instead.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.policy import password_hint, plain_words
from tenantry.core.flows.context import DeadToken
from tenantry.core.memberships import joining
from tenantry.errors import InvalidInput, NotFound, PermissionDenied
from tenantry.i18n import _
from tenantry.runtime import Runtime, get_runtime, get_session
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
from tenantry.ui.session import AccountForm, Holder, page_actor

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


async def _new_password_page(
    request: Request, session: AsyncSession, invitation: joining.Invitation, token: str, errors: dict[str, str]
) -> Response:
    """Accepting for an account someone else may know: the owner of the address chooses a new password first."""
    await use_org(request, session, invitation.org)
    user_id, name = invitation.membership.user_id, request.state.brand.name
    context = {
        "heading": _("Make your account yours to join %(org)s") % {"org": name},
        "intro": _(
            "Someone else may have set up this account and know its password. Choose a new password: the old"
            " one, every session and every second factor set up until now stop working."
        ),
        "button": _("Accept and save the password"),
        "action": "/ui/join",
        "answer": "accept",
        "token": token,
        "email": "",
        "hint": await password_hint(session, user_id),
        "errors": errors,
    }
    return render(request, "set_password.html", context, 400 if errors else 200)


@router.post("/join")
async def answer_invitation(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Accept or decline the invitation the link names; the link works once. Accepting for an account whose
    credentials are not proven its owner's asks for a new password first (``joining.answer_link``)."""
    form = await read_form(request)
    accepted = ANSWERS.get(field(form, "answer", 10))
    if accepted is None:
        return message(request, _("Choose an answer"), _("Accept or decline the invitation."), 400)
    token, password = field(form, "token", 200), field(form, "password") or None
    invitation = await joining.find_link(session, token)
    if invitation is not None:
        use_user_locale(invitation.locale)
        if accepted and invitation.proof_needed:
            if password is None:
                return await _new_password_page(request, session, invitation, token, {})
            if password != field(form, "password_repeat"):
                errors = {"password_repeat": _("The two passwords differ")}
                return await _new_password_page(request, session, invitation, token, errors)
    try:
        org = await joining.answer_link(
            session, runtime.flows, page_actor(request), token, accept=accepted, password=password
        )
    except DeadToken:
        return dead_link(request)
    except InvalidInput as error:
        if invitation is None:
            return dead_link(request)
        errors = {"password": " ".join(plain_words(e) for e in error.errors)}
        return await _new_password_page(request, session, invitation, token, errors)
    await use_org(request, session, org)
    return _answered(request, request.state.brand.name, accepted)


@router.post("/account/invitations")
async def answer_on_account(holder: Holder, form: AccountForm) -> Response:
    """Accept or decline, on "My account", an organization's invitation waiting for you. An account whose
    credentials are not proven its owner's is mailed the join link instead (accepting needs the mailbox)."""
    request, session, user = holder.request, holder.session, holder.current.user
    accepted = ANSWERS.get(field(form, "answer", 10))
    if accepted is None:
        text = _("Accept or decline the invitation.")
        return message(request, _("Choose an answer"), text, 400, account="/ui/account")
    org_ref = field(form, "org", 100)
    flows = holder.runtime.flows
    try:
        signed_in_by = holder.current.session.amr
        org = await joining.answer(
            session, holder.actor, user, org_ref, accept=accepted, flows=flows, signed_in_by=signed_in_by
        )
    except joining.MailboxProofNeeded as refused:
        await use_org(request, session, refused.org)
        text = _(
            "Before your account joins %(org)s, show that %(email)s is yours: we mailed it a link to accept the"
            " invitation, where you choose a new password."
        ) % {"org": request.state.brand.name, "email": user.email}
        return message(request, _("Check your mailbox"), text, account="/ui/account")
    except (NotFound, PermissionDenied):
        text = _("This organization has no invitation waiting for your answer.")
        return message(request, _("No such invitation"), text, 404, account="/ui/account")
    await use_org(request, session, org)
    return _answered(request, request.state.brand.name, accepted)
