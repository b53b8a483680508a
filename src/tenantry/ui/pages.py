"""What every hosted page shares: rendering, security headers, the CSRF check, the session cookie."""

import hmac
import inspect
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from tenantry import i18n
from tenantry.core.orgs import branding
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.models import Organization
from tenantry.errors import (
    Conflict,
    MalformedBody,
    NotFound,
    OrganizationNotFound,
    PermissionDenied,
    RateLimited,
    TenantryError,
    Unauthenticated,
)
from tenantry.i18n import N_, _
from tenantry.runtime import Runtime, runtime_of, session_of
from tenantry.web.body_limit import ContentTooLarge
from tenantry.web.origins import foreign_origin
from tenantry.web.routing import UnitOfWorkRoute

CSRF_FIELD = "csrf_token"
SECURITY_HEADERS = {  # the console adds its own Content-Security-Policy (console.pages)
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'",
}


_AUTHORIZE = "/oidc/authorize?"


_CONSOLE = "/console"


def continuation(value: str | None) -> str | None:
    """Where to go on after sign-in: only back to this service's authorization endpoint (an OpenID
    provider request being signed in for, which checks its client and redirect URI) or to a page of the
    admin console, never elsewhere."""
    if not value or len(value) > 4000 or "\\" in value or "\n" in value or "\r" in value:
        return None
    console = value == _CONSOLE or value.startswith((f"{_CONSOLE}/", f"{_CONSOLE}?"))
    if not value.startswith(_AUTHORIZE) and not console:
        return None
    return value


@dataclass(frozen=True)
class PageRequest:
    """A page's request (the hosted pages' or the console's), with its unit of work and the runtime."""

    request: Request

    @property
    def session(self) -> AsyncSession:
        return session_of(self.request)

    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.request)


class FormRejected(Exception):
    """The form did not come from our own page (no or wrong CSRF token, foreign Origin): every page answers
    it the same way, ``rejected_form`` (``install``)."""


def _secure(runtime: Runtime) -> bool:
    return runtime.settings.base_url.startswith("https://")


def cookie_name(runtime: Runtime, name: str) -> str:
    """``__Host-`` names over https: such a cookie cannot be set by a sibling domain or over http."""
    return f"__Host-{name}" if _secure(runtime) else name


def set_cookie(response: Response, runtime: Runtime, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        cookie_name(runtime, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=_secure(runtime),
        samesite="lax",
    )


def csrf_token(request: Request) -> str:
    """This browser's CSRF token: the one in its cookie, or a new one (set on the response by ``render``)."""
    runtime = runtime_of(request)
    current = request.cookies.get(cookie_name(runtime, "tenantry_csrf"), "")
    if 20 <= len(current) <= 100:
        return current
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = secrets.token_urlsafe(32)
    token: str = request.state.new_csrf
    return token


async def read_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the cookie and its Origin (when sent) is ours."""
    runtime = runtime_of(request)
    if foreign_origin(request, runtime.settings.base_url):
        raise FormRejected("foreign origin")
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(cookie_name(runtime, "tenantry_csrf"), "")
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise FormRejected("CSRF token mismatch")
    return form


def field(form: FormData, name: str, max_length: int = 1024) -> str:
    value = form.get(name)
    return value[:max_length] if isinstance(value, str) else ""


async def use_org(request: Request, session: AsyncSession, org: Organization | None) -> None:
    """The page is the organization's: it shows its branding, and its default language counts."""
    if org is None:
        return
    look = await branding.look_of(session, org)
    request.state.brand = look
    i18n.learn(org_default=look.default_language)


async def org_context(request: Request, session: AsyncSession, ref: str | None) -> dict[str, Any]:
    """The organization a sign-in names (``?org=``, carried through its second step): the page shows its name
    and branding (``org_name``), or says that no organization has this id or slug (``unknown_org``)."""
    if not ref:
        return {"org": None, "org_name": None}
    try:
        org = await orgs.get(session, ref)
    except OrganizationNotFound:
        return {"org": None, "org_name": None, "unknown_org": ref}
    await use_org(request, session, org)
    return {"org": ref, "org_name": request.state.brand.name, "org_id": org.id}


def use_user_locale(locale: str | None) -> None:
    """The page is for this user: their own ``locale`` comes before the browser's languages."""
    i18n.learn(user_locale=locale)


def page_response(
    request: Request, template: str, context: dict[str, Any], status: int, headers: Mapping[str, str]
) -> HTMLResponse:
    """A page of either site (``template`` under ``ui/`` or ``console/``) with the request's CSRF token and path,
    ``headers``, and the CSRF cookie when this request minted its token."""
    runtime = runtime_of(request)
    page = {"csrf_token": csrf_token(request), "request_path": request.url.path, **context}
    response = HTMLResponse(runtime.templates.render(template, page), status_code=status)
    response.headers.update(headers)
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf is not None:
        set_cookie(response, runtime, "tenantry_csrf", new_csrf)
    return response


def render(request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    page = {"brand": getattr(request.state, "brand", None), **(context or {})}
    return page_response(request, f"ui/{template}", page, status, SECURITY_HEADERS)


def message(request: Request, title: str, text: str, status: int = 200, **links: str) -> HTMLResponse:
    """A page that says one thing, with optional links (``sign_in``, ``account``, ``forgot``)."""
    return render(request, "message.html", {"title": title, "text": text, "links": links}, status)


def dead_link(request: Request) -> HTMLResponse:
    text = _("This link has already been used, has expired, or was replaced by a newer one. It did nothing.")
    return message(
        request, _("This link no longer works"), text, 410, sign_in="/ui/sign-in", forgot="/ui/forgot-password"
    )


def rejected_form(request: Request) -> HTMLResponse:
    text = _(
        "This form could not be accepted (it was open too long, or did not come from this site). Please try again."
    )
    return message(request, _("Please try again"), text, 403)


UNREADABLE_FORM_TITLE = N_("This form could not be sent")
TOO_LARGE_FORM = N_("It was larger than this site accepts. Please try again with less.")
UNREADABLE_FORM = N_("Its content could not be read (it was not text in UTF-8). Please try again.")


def unreadable_form(request: Request, error: ContentTooLarge | MalformedBody) -> HTMLResponse:
    """A body this site will not read (too large: 413; not UTF-8, say: 400), answered as a page."""
    if isinstance(error, ContentTooLarge):
        return message(request, _(UNREADABLE_FORM_TITLE), _(TOO_LARGE_FORM), 413)
    return message(request, _(UNREADABLE_FORM_TITLE), _(UNREADABLE_FORM), 400)


class PageRoute(UnitOfWorkRoute):
    """A hosted page's route: one transaction per request, and a form too large or unreadable is answered as a
    page (``unreadable_form``), not with the API's problem details."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except (ContentTooLarge, MalformedBody) as error:
                return unreadable_form(request, error)

        return answer


def redirect(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
    return response


class SignInFirst(Exception):
    """A page behind the session cookie was asked for without a live session: the browser signs in first."""


_PAGES = "/ui"


def _hosted(request: Request) -> bool:
    path = request.url.path
    return (path == _PAGES or path.startswith(f"{_PAGES}/")) and not path.startswith(f"{_PAGES}/static/")


def _page_for_failure(request: Request, status: int) -> HTMLResponse:
    """What a browser sees when a hosted address is wrong: a page in its language, never the API's JSON."""
    if status == 404:
        text = _("There is no page at this address. Check the link you followed, or start again from your account.")
        return message(request, _("Page not found"), text, 404, account="/ui/account")
    if status == 405:
        text = _("Your browser asked for this page in a way it does not answer. Start again from your account.")
        return message(request, _("This page cannot be opened this way"), text, 405, account="/ui/account")
    text = _("The address of this page is incomplete or damaged. Check the link you followed, or ask for a new one.")
    return message(request, _("This address does not work"), text, 400, account="/ui/account")


def _domain_failure(request: Request, error: Exception) -> Response:
    """A core refusal no page answered itself: said in words, as a page (the API's problem body is for programs)."""
    if isinstance(error, Unauthenticated):
        return redirect("/ui/sign-in")
    if isinstance(error, RateLimited):
        text = _("Too many attempts. Please wait a moment and try again.")
        page = message(request, _("Please wait a moment"), text, 429)
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    if isinstance(error, NotFound):
        return _page_for_failure(request, 404)
    if isinstance(error, PermissionDenied):
        text = _("Your account may not do this here.")
        return message(request, _("Not allowed"), text, 403, account="/ui/account")
    if isinstance(error, Conflict | IntegrityError):
        text = _("Something changed while this page was open. Reload it and try again.")
        return message(request, _("Please try again"), text, 409, account="/ui/account")
    return _page_for_failure(request, 400)


def _unexpected(request: Request) -> Response:
    """A failure of ours: logged by the shared handler; the browser gets a page in its language (the request's
    own language choice has ended by now, so it is made again from the request)."""
    token = i18n.begin(i18n.Choice(accept_language=request.headers.get("accept-language")))
    try:
        text = _("This page could not be shown. The problem has been logged; please try again in a moment.")
        return message(request, _("Something went wrong"), text, 500, account="/ui/account")
    finally:
        i18n.end(token)


def _for_hosted_pages(
    kind: type[Exception], answer: Callable[[Request, Exception], Response | None], app: FastAPI
) -> None:
    """Answer ``kind`` on a hosted page with ``answer`` (None: as before); other surfaces keep their handler."""
    previous = app.exception_handlers[kind]

    async def handler(request: Request, error: Exception) -> Response:
        if not _hosted(request):
            result = previous(request, error)
            return await result if inspect.isawaitable(result) else result
        if kind is Exception:  # the shared handler logs it; its JSON body is not what a browser needs
            logged = previous(request, error)
            if inspect.isawaitable(logged):
                await logged
        if (page := answer(request, error)) is not None:
            return page
        result = previous(request, error)
        return await result if inspect.isawaitable(result) else result

    app.add_exception_handler(kind, handler)


def _http_failure(request: Request, error: Exception) -> Response | None:
    assert isinstance(error, HTTPException)
    return _page_for_failure(request, error.status_code) if error.status_code in (404, 405, 422) else None


def install(app: FastAPI) -> None:
    """A rejected form (``read_form``) is answered by ``rejected_form``, and a page that needs a session
    (``ui.session.account_holder``) sends a browser without one to sign in, whichever page it was. An address
    under /ui that names no page, a wrong method and a damaged query answer a page in the browser's language
    (the other surfaces keep their error bodies); so do a core refusal no page caught and a failure of ours."""
    app.add_exception_handler(FormRejected, lambda request, _: rejected_form(request))
    app.add_exception_handler(SignInFirst, lambda _, __: redirect("/ui/sign-in"))
    _for_hosted_pages(HTTPException, _http_failure, app)
    _for_hosted_pages(RequestValidationError, lambda request, _: _page_for_failure(request, 422), app)
    _for_hosted_pages(TenantryError, _domain_failure, app)
    _for_hosted_pages(IntegrityError, _domain_failure, app)
    _for_hosted_pages(Exception, lambda request, _: _unexpected(request), app)
