"""What every console page shares: the signed-in viewer, their access to the organization, rendering,
the CSRF check (form field or htmx's header), and the pages that say no.

The viewer is the hosted pages' browser session turned into a ``Principal``; their rights in the
organization come from ``auth.policy.org_access`` under the route's ``Policy``, exactly as the API's
do, so a page and the API refuse the same people. Routes carry no ``policy`` attribute: the API's route
walker probes bearer credentials, which the console does not read (docs/api.md lists its routes as
"session cookie").
"""

import hmac
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tenantry.auth.policy import OrgAccess, Policy, org_access
from tenantry.auth.principal import Principal
from tenantry.auth.second_factor import MFA_AMR
from tenantry.console.forms import sentence
from tenantry.core.orgs.models import Organization
from tenantry.errors import MalformedBody, NotFound, PermissionDenied, RateLimited, TenantryError
from tenantry.i18n import _
from tenantry.runtime import get_session, runtime_of
from tenantry.ui.pages import (
    CSRF_FIELD,
    SECURITY_HEADERS,
    TOO_LARGE_FORM,
    UNREADABLE_FORM,
    UNREADABLE_FORM_TITLE,
    PageRequest,
    cookie_name,
    page_response,
    redirect,
)
from tenantry.ui.session import signed_in
from tenantry.web.body_limit import ContentTooLarge
from tenantry.web.origins import foreign_origin
from tenantry.web.routing import SAFE_METHODS, UnitOfWorkRoute

CSRF_HEADER = "x-csrf-token"
# The hosted pages' headers; their policy, plus forms that post only to this site.
_SECURITY_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


class SignInFirst(Exception):
    """No browser session: the page sends the browser to the hosted sign-in, and back here after it."""


class FormRejected(Exception):
    """The request did not come from a console page (no or wrong CSRF token, foreign Origin)."""


@dataclass(frozen=True)
class Console(PageRequest):
    """The viewer's access to one organization, with the request a page answers and its unit of work."""

    access: OrgAccess

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def may(self, policy: Policy) -> bool:
        """Whether the viewer would be let into a page or route with ``policy``: for a part of this page that shows
        what that one serves."""
        return policy.admits(self.access.actor)

    def can_any(self, *permissions: str) -> bool:
        return any(permission in self.permissions for permission in permissions)

    async def form(self) -> FormData:
        """The posted form, its CSRF token checked."""
        return await checked_form(self.request)

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        """A page (or, for htmx, a fragment) of this organization's, for this viewer."""
        return render(self.request, template, context, status, self)

    def go(self, url: str) -> Response:
        """After a change: to ``url`` (a redirect, or htmx's ``HX-Redirect``)."""
        return go(self.request, url)

    @property
    def org(self) -> Organization:
        return self.access.org

    @property
    def permissions(self) -> frozenset[str]:
        return self.access.actor.permissions


async def viewer(request: Request, session: AsyncSession) -> Principal:
    """The signed-in account, as the policies know callers, with its browser session (what an impersonation
    minted here is bound to: signing out ends it); ``SignInFirst`` without a session."""
    current = await signed_in(request, session)
    if current is None:
        raise SignInFirst
    amr = current.session.amr or []
    return Principal(
        user=current.user,
        session_id=current.session.id,
        second_factor=MFA_AMR in amr,
        issued_at=current.session.created_at,
    )


def console_access(policy: Policy) -> Callable[..., Awaitable[Console]]:
    """Dependency: the viewer's access to ``{org}`` under ``policy`` (404 not theirs, 403 not allowed), and
    for a change, its CSRF token checked."""

    async def dependency(
        request: Request,
        org: Annotated[str, Path(description="Organization id or slug", max_length=100)],
        session: AsyncSession = Depends(get_session),
    ) -> Console:
        access = await org_access(request, session, policy, await viewer(request, session), org)
        if request.method not in SAFE_METHODS:  # every change, a form's or htmx's, carries the CSRF token
            await checked_form(request)
        return Console(request=request, access=access)

    return dependency


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token (field, or htmx's header) matches the cookie and its Origin
    (when sent) is ours."""
    runtime = runtime_of(request)
    if foreign_origin(request, runtime.settings.base_url):
        raise FormRejected("foreign origin")
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    cookie = request.cookies.get(cookie_name(runtime, "tenantry_csrf"), "")
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise FormRejected("CSRF token mismatch")
    return form


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    console: Console | None = None,
) -> HTMLResponse:
    """A console page (or, for htmx, a fragment) with the viewer's organization and rights in its context, and
    its form's ``errors`` and ``values`` (empty unless ``context`` gives them)."""
    page: dict[str, Any] = {
        "org": console.org if console else None,
        "can": console.can if console else (lambda _: False),
        "can_any": console.can_any if console else (lambda *_: False),
        "viewer": console.access.principal.user if console else None,
        "errors": {},
        "values": {},
        **(context or {}),
    }
    return page_response(request, f"console/{template}", page, status, _SECURITY_HEADERS)


def confirm_page(
    console: Console,
    *,
    heading: str,
    question: str,
    action: str,
    button: str,
    back: str,
    danger: bool = True,
) -> HTMLResponse:
    """Ask before an action: the page's button posts to ``action``, its link goes ``back``."""
    page = {
        "heading": heading,
        "question": question,
        "action": action,
        "button": button,
        "danger": danger,
        "back": back,
    }
    return console.render("confirm.html", page)


def go(request: Request, url: str) -> Response:
    """After a change: a redirect (303), which htmx follows as a whole page too (``HX-Redirect``)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url, "Cache-Control": "no-store"})
    return redirect(url)


def _refusal(request: Request, error: Exception) -> Response:
    if isinstance(error, SignInFirst):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = here if request.method == "GET" else "/console"
        return go(request, f"/ui/sign-in?continue={quote(target, safe='/')}")
    if isinstance(error, FormRejected):
        text = _("This form could not be accepted (it was open too long, or did not come from this site). Try again.")
        return render(request, "message.html", {"title": _("Please try again"), "text": text}, 403)
    if isinstance(error, (ContentTooLarge, MalformedBody)):
        too_large = isinstance(error, ContentTooLarge)
        page = {"title": _(UNREADABLE_FORM_TITLE), "text": _(TOO_LARGE_FORM if too_large else UNREADABLE_FORM)}
        return render(request, "message.html", page, 413 if too_large else 400)
    if isinstance(error, NotFound):
        page = {"title": _("Not found"), "text": _("There is no such page here.")}
        return render(request, "message.html", page, 404)
    if isinstance(error, PermissionDenied):
        page = {"title": _("Not allowed"), "text": _("You may not do this in this organization.")}
        return render(request, "message.html", page, 403)
    if isinstance(error, RateLimited):
        waiting = {"title": _("Please wait a moment"), "text": sentence(error.detail)}
        response = render(request, "message.html", waiting, 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    assert isinstance(error, TenantryError)
    return render(request, "message.html", {"title": _("This did not work"), "text": sentence(error.detail)}, 409)


class ConsoleRoute(UnitOfWorkRoute):
    """One transaction per request, as the API's routes; refusals and errors answer as pages, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except (SignInFirst, FormRejected, TenantryError, ContentTooLarge) as error:
                return _refusal(request, error)

        return answer
