"""The "my account" session cookie: HttpOnly, SameSite=Lax, Secure (and ``__Host-``) when served over https."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tenantry.auth.brute_force import client_ip
from tenantry.core.actor import Actor
from tenantry.core.mfa import challenges
from tenantry.core.sessions import service as browser_sessions
from tenantry.core.sessions.service import SignedIn
from tenantry.core.users.models import User
from tenantry.requestctx import request_id
from tenantry.runtime import get_session, runtime_of
from tenantry.ui.pages import PageRequest, SignInFirst, cookie_name, read_form, set_cookie, use_user_locale

SESSION_COOKIE = "tenantry_session"


def _secret(request: Request) -> str | None:
    return request.cookies.get(cookie_name(runtime_of(request), SESSION_COOKIE))


async def signed_in(request: Request, session: AsyncSession, *, one_factor: bool = False) -> SignedIn | None:
    """The signed-in browser's session and user (whose ``locale`` the page then speaks), or None.

    A session that lacks the second factor a sign-in of its account would need now is none here, as its refresh
    tokens mint nothing more (``challenges.lacks_required_factor``): the owner enrolled a factor after it began
    (securing an account whose password may be known), or an organization turned ``mfa_required`` on. The
    browser signs in again, with both. ``one_factor`` takes it as it is: for signing out, and for the
    authorization endpoint, which sends it to the second step itself."""
    current = await browser_sessions.resume(session, _secret(request))
    if current is None:
        return None
    settings = runtime_of(request).settings
    if not one_factor and await challenges.lacks_required_factor(session, settings, current.user, current.session.amr):
        return None
    use_user_locale(current.user.locale)
    return current


async def account_holder(request: Request, session: AsyncSession = Depends(get_session)) -> SignedIn:
    """Dependency: the browser's live session (``SignInFirst`` without one)."""
    current = await signed_in(request, session)
    if current is None:
        raise SignInFirst()
    return current


async def account_form(request: Request, _holder: SignedIn = Depends(account_holder)) -> FormData:
    """Dependency: the posted form of a signed-in browser (``read_form``); the session is asked first, so a
    signed-out browser is sent to sign in whatever it posted."""
    return await read_form(request)


AccountHolder = Annotated[SignedIn, Depends(account_holder)]
AccountForm = Annotated[FormData, Depends(account_form)]


@dataclass(frozen=True)
class HolderRequest(PageRequest):
    """A request of a signed-in browser about its own account: who is signed in (with its session), and the
    actor a page's change records."""

    current: SignedIn

    @property
    def actor(self) -> Actor:
        return page_actor(self.request, self.current.user, self.current.session.amr)


async def holder_request(request: Request, current: AccountHolder) -> HolderRequest:
    return HolderRequest(request=request, current=current)


Holder = Annotated[HolderRequest, Depends(holder_request)]


async def open_session(
    request: Request, session: AsyncSession, response: Response, user: User, amr: list[str] | None = None
) -> None:
    """Sign the browser in as ``user``, who proved ``amr`` (how, for the OpenID provider's tokens), in place of
    the session it held."""
    runtime = runtime_of(request)
    ttl = runtime.settings.browser_session_ttl_seconds
    secret = await browser_sessions.start(session, user, ttl, amr, replaces=_secret(request))
    set_cookie(response, runtime, SESSION_COOKIE, secret, max_age=ttl)


async def factor_set_up(
    request: Request, session: AsyncSession, response: Response, current: SignedIn, kind: str
) -> None:
    """The session ``current`` set up its account's second factor ``kind`` (an authenticator app's code typed, a
    passkey made with user verification): the browser goes on in a session that proved both, in its place (else
    it would be refused here from the next page on, once the account has a factor: ``signed_in``)."""
    amr = challenges.proven_by_enrolment(current.session.amr, kind)
    await open_session(request, session, response, current.user, amr)


async def close_session(request: Request, session: AsyncSession, response: Response) -> None:
    """Sign the browser out: its session, and the token sessions applications were given from it, end."""
    runtime = runtime_of(request)
    await browser_sessions.sign_out(session, _secret(request))
    response.delete_cookie(
        cookie_name(runtime, SESSION_COOKIE),
        path="/",
        secure=runtime.settings.base_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def page_actor(request: Request, user: User | None = None, amr: list[str] | None = None) -> Actor:
    """The actor of a hosted page's request: ``user`` when signed in, whose browser session proved ``amr``."""
    return Actor(
        user_id=user.id if user else None,
        second_factor="mfa" in (amr or []),
        request_id=request_id.get(),
        client_ip=client_ip(request),
    )
