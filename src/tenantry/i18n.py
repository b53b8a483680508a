"""Languages: which one a page or an email speaks, its translations, and dates and numbers in it.

One template environment serves every language: its gettext callables read the language of the work at
hand from a context variable. A hosted page's language is chosen from what is known about the request
(``Choice``): OpenID ``ui_locales`` first, then the signed-in user's ``locale``, the browser's
``Accept-Language``, the organization's default, and English. An email speaks its recipient's ``locale``,
else the organization's default (``with language(...)``).

The catalogs are ``locale/<lang>/LC_MESSAGES/messages.po``. They are compiled in memory by Babel the first
time a language is used, so the wheel, an editable install and a fresh checkout need no build step and a
``.po`` file can never disagree with a stale ``.mo``.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT = "en"
LANGUAGES = ("en", "fr", "de")
"""The languages with a complete catalog (English is the source text)."""
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def supported(tag: str | None) -> str | None:
    """The supported language a tag names (``fr-CA`` -> ``fr``, ``de_AT`` -> ``de``), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The browser's most preferred supported language in an ``Accept-Language`` header, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:1000].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        language = supported(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def from_ui_locales(value: str | None) -> str | None:
    """The first supported language of OpenID ``ui_locales`` (space-separated tags, by preference)."""
    for tag in (value or "")[:500].split():
        if (language := supported(tag)) is not None:
            return language
    return None


def negotiate(
    *,
    ui_locales: str | None = None,
    user_locale: str | None = None,
    accept_language: str | None = None,
    org_default: str | None = None,
) -> str:
    """The language to speak: ``ui_locales`` (OpenID) wins, then the user's own ``locale``, then the browser's
    ``Accept-Language``, then the organization's default language, then English."""
    return (
        from_ui_locales(ui_locales)
        or supported(user_locale)
        or from_accept_language(accept_language)
        or supported(org_default)
        or DEFAULT
    )


@dataclass
class Choice:
    """What is known so far about the language of the request at hand; pages learn more as they go (the
    signed-in user, the organization) and the language follows."""

    ui_locales: str | None = None
    user_locale: str | None = None
    accept_language: str | None = None
    org_default: str | None = None
    fixed: str | None = None

    @property
    def language(self) -> str:
        if self.fixed is not None:
            return self.fixed
        return negotiate(
            ui_locales=self.ui_locales,
            user_locale=self.user_locale,
            accept_language=self.accept_language,
            org_default=self.org_default,
        )


_choice: ContextVar[Choice | None] = ContextVar("tenantry_language", default=None)


def begin(choice: Choice | None) -> Token[Choice | None]:
    """Start the language choice of a request (the request middleware calls this; None: English)."""
    return _choice.set(choice)


def end(token: Token[Choice | None]) -> None:
    _choice.reset(token)


def learn(*, user_locale: str | None = None, org_default: str | None = None, ui_locales: str | None = None) -> None:
    """Tell the current request's choice what is now known: the signed-in user's locale, the org's default."""
    choice = _choice.get()
    if choice is None:
        return
    if user_locale:
        choice.user_locale = user_locale
    if org_default:
        choice.org_default = org_default
    if ui_locales:
        choice.ui_locales = ui_locales


def current() -> str:
    """The language of the work at hand (English outside any request or ``language`` block)."""
    choice = _choice.get()
    return choice.language if choice is not None else DEFAULT


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` (a supported language, else English) inside the block: emails, CLI output."""
    chosen = supported(lang) or DEFAULT
    token = _choice.set(Choice(fixed=chosen))
    try:
        yield chosen
    finally:
        _choice.reset(token)


@cache
def catalog(lang: str) -> NullTranslations:
    """The compiled translations of ``lang`` (English and unknown languages: the source text)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        messages = read_po(po, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    return catalog(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return catalog(current()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    return str(catalog(current()).pgettext(context, message))


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it now (module-level tables): translate it with
    ``_()`` when it is used."""
    return message


def _locale() -> Locale:
    try:
        return Locale.parse(current())
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)


def format_date(value: date | datetime, style: str = "long") -> str:
    """A date as the current language writes it (``3 December 2026``, ``3 décembre 2026``)."""
    return babel_dates.format_date(value, format=style, locale=_locale())


def format_datetime(value: datetime, style: str = "medium") -> str:
    """A moment as the current language writes it, in UTC."""
    return babel_dates.format_datetime(value, format=style, tzinfo=babel_dates.UTC, locale=_locale())


def format_number(value: float) -> str:
    """A number with the current language's separators (``2,000``, ``2 000``, ``2.000``)."""
    return babel_numbers.format_decimal(value, locale=_locale())
