"""Account flows over the API: password resets, invitations, email verification, magic links, and the
ticket that replaces a password that must change.

The two routes under ``/auth`` are public on purpose: one is asked by someone who cannot sign in, the
other is authorized by the ticket it carries.
"""

from datetime import datetime

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tenantry.api.errors import problems
from tenantry.api.me import load_me
from tenantry.api.users import target_user
from tenantry.auth.brute_force import client_ip, rate_limited
from tenantry.auth.login import TokenResponse, tokens_for
from tenantry.auth.policy import Policy, Target, caller
from tenantry.core.actor import Actor
from tenantry.core.clients import destinations
from tenantry.core.fields import Email
from tenantry.core.flows import invitations, magic_links, resets, signin, verification
from tenantry.core.users.schemas import Password
from tenantry.requestctx import request_id
from tenantry.runtime import AppRuntime, DbSession
from tenantry.web.headers import NO_STORE
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(tags=["account flows"], route_class=UnitOfWorkRoute)

RESET_ACCEPTED = "If an account has this address, an email with a link to reset its password is on its way."


class ResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email


class Accepted(BaseModel):
    detail: str


class PasswordChangeWithTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change_ticket: str = Field(max_length=200, description="`change_ticket` from the token endpoint's error.")
    new_password: Password


class AppDestinationIn(BaseModel):
    """Optional: the application the link ends in. Using the link then continues into this client's
    authorization flow, which sends the browser to ``redirect_uri`` with a code (docs/account-flows.md)."""

    client_id: str | None = Field(default=None, max_length=64, description="A confidential client's id.")
    redirect_uri: str | None = Field(default=None, max_length=2000, description="One the client registered.")


class MagicLinkOut(BaseModel):
    url: str = Field(description="Open it in a browser to sign in as the user, once.")
    expires_at: datetime


def anonymous_actor(request: Request) -> Actor:
    return Actor(request_id=request_id.get(), client_ip=client_ip(request))


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(422, 429),
)
async def request_password_reset(
    payload: ResetRequest,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
) -> JSONResponse:
    """Mail a password reset link to the account with this address; the answer is the same for any address."""
    await runtime.throttle.admit_password_reset(payload.email, client_ip(request))
    resets.request_reset(session, anonymous_actor(request), payload.email)
    return JSONResponse({"detail": RESET_ACCEPTED}, status_code=status.HTTP_202_ACCEPTED)


@router.post("/auth/password-change", response_model=TokenResponse, responses=problems(422, 429))
async def change_required_password(
    payload: PasswordChangeWithTicket,
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    _: None = Depends(rate_limited("password-change")),
) -> JSONResponse:
    """Replace a password that must change, with the ticket the token endpoint gave; answers new tokens."""
    user = await signin.change_required_password(
        session, runtime.flows, anonymous_actor(request), payload.change_ticket, payload.new_password
    )
    tokens = await tokens_for(session, runtime, user)
    return JSONResponse(tokens.model_dump(), headers=NO_STORE)


@router.post(
    "/orgs/{org}/users/{user}/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(401, 403, 404, 409, 429),
)
async def send_password_reset(
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(target_user(Policy("users:set_password", impersonation=False, partner=True))),
) -> Accepted:
    """Mail the user a link to choose a new password (their current one keeps working until then)."""
    await resets.send_reset_to_member(session, runtime.flows, target.access.actor, target.access.org, target.member)
    return Accepted(detail="a password reset email is on its way")


@router.post(
    "/orgs/{org}/users/{user}/invitation",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(401, 403, 404, 409, 422, 429),
)
async def resend_invitation(
    session: DbSession,
    runtime: AppRuntime,
    payload: AppDestinationIn | None = None,
    target: Target = Depends(target_user(Policy("users:create", impersonation=False, partner=True))),
) -> Accepted:
    """Mail an invited user a new link to set their password; the earlier link stops working. With
    ``client_id`` and ``redirect_uri`` the activated user continues into that client's sign-in."""
    access = target.access
    payload = payload or AppDestinationIn()
    destination = await destinations.checked(session, access.org, payload.client_id, payload.redirect_uri)
    await invitations.send_invitation_to_member(
        session, runtime.flows, access.actor, access.org, target.member, destination
    )
    return Accepted(detail="an invitation email is on its way")


@router.post(
    "/orgs/{org}/users/{user}/email-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(401, 403, 404, 409, 429),
)
async def send_email_verification(
    session: DbSession,
    runtime: AppRuntime,
    target: Target = Depends(target_user(Policy("users:update", impersonation=False, partner=True))),
) -> Accepted:
    """Mail the user a link that confirms their email address."""
    access = target.access
    await verification.send_verification_to_member(session, runtime.flows, access.actor, access.org, target.member)
    return Accepted(detail="a verification email is on its way")


@router.post(
    "/orgs/{org}/users/{user}/magic-link",
    status_code=status.HTTP_201_CREATED,
    response_model=MagicLinkOut,
    responses=problems(401, 403, 404, 409, 422),
)
async def create_magic_link(
    session: DbSession,
    runtime: AppRuntime,
    payload: AppDestinationIn | None = None,
    target: Target = Depends(target_user(Policy("users:magic_link", impersonation=False, partner=True))),
) -> JSONResponse:
    """A link that signs the user in once, for a short while; no email is sent. With ``client_id`` and
    ``redirect_uri`` it continues into that client's sign-in and ends in the app."""
    access = target.access
    payload = payload or AppDestinationIn()
    destination = await destinations.checked(session, access.org, payload.client_id, payload.redirect_uri)
    link = await magic_links.create_magic_link(
        session, runtime.flows, access.actor, access.org, target.member, destination
    )
    body = MagicLinkOut(url=link.url, expires_at=link.expires_at)
    return JSONResponse(body.model_dump(mode="json"), status_code=status.HTTP_201_CREATED, headers=NO_STORE)


@router.post(
    "/me/email-verification",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problems(401, 403, 409, 429),
)
async def verify_my_email(
    session: DbSession,
    runtime: AppRuntime,
    actor: Actor = Depends(caller(Policy(users_only=True, impersonation=False))),
) -> Accepted:
    """Mail yourself a link that confirms your email address."""
    user = await load_me(session, actor)
    await verification.send_verification(session, runtime.flows, actor, None, user)
    return Accepted(detail="a verification email is on its way")
