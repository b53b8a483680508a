"""The console's forms: a field's text, and a refused form's errors as the page's summary says them (each
field by its label, each problem in the viewer's language)."""

from collections.abc import Mapping

from pydantic import ValidationError
from starlette.datastructures import FormData

from tenantry.core.credentials.policy import plain_words
from tenantry.errors import InvalidInput
from tenantry.i18n import N_, _


def text_field(form: FormData, name: str, max_length: int = 1024) -> str:
    value = form.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


FIELD_LABELS = {
    "form": N_("Form"),
    "name": N_("Name"),
    "slug": N_("Slug"),
    "description": N_("Description"),
    "email": N_("Email address"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "roles": N_("Roles"),
    "role": N_("Role"),
    "permissions": N_("Permissions"),
    "partner_org": N_("Partner organization"),
    "file": N_("CSV file"),
    "min_length": N_("Shortest password"),
    "max_length": N_("Longest password"),
    "min_character_classes": N_("Kinds of characters to mix"),
    "blocked_words": N_("Blocked words"),
    "display_name": N_("Display name"),
    "primary_color": N_("Colour"),
    "support_email": N_("Support email address"),
    "email_from_name": N_("Sender name"),
    "logo": N_("Logo"),
    "webhook_url": N_("Endpoint URL"),
    "events": N_("Events"),
    "client_name": N_("Client name"),
    "client_type": N_("Client type"),
    "redirect_uris": N_("Redirect URIs"),
}
"""The console's form fields as their labels name them (a field not listed shows its name)."""
_PROBLEMS = {
    "missing": N_("enter a value"),
    "string_too_short": N_("enter at least %(min_length)s characters"),
    "string_too_long": N_("use at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("use only the characters allowed here"),
    "too_long": N_("choose at most %(max_length)s"),
    "too_short": N_("choose at least %(min_length)s"),
    "int_parsing": N_("enter a whole number"),
    "greater_than_equal": N_("enter at least %(ge)s"),
    "less_than_equal": N_("enter at most %(le)s"),
    "literal_error": N_("choose one of the options"),
}
"""Pydantic's error types as the console says them; other types show the validator's message, translated
when the catalog has it (the core marks its messages with ``N_``)."""


SLUG_TAKEN = N_("another organization uses this slug")


def translated(message: str) -> str:
    """A domain message in the viewer's language when the catalog has it (the core marks its messages with
    ``N_``), else as written."""
    said = _(message)
    if said == message and ": " in message:  # "is not a valid email address: <the validator's reason>"
        said = _(message.split(": ", 1)[0])
    return said


def sentence(message: str) -> str:
    """A domain message as a sentence of its own, in the viewer's language when the catalog has it."""
    said = translated(message)
    return said[:1].upper() + said[1:]


def field_error(name: str, message: str) -> str:
    """One line of a form's error summary: the field's label, then what is wrong with it."""
    label = _(FIELD_LABELS[name]) if name in FIELD_LABELS else name.replace("_", " ").capitalize()
    return _("%(field)s: %(problem)s") % {"field": label, "problem": message}


def field_errors(error: ValidationError | InvalidInput, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """A rejected form's errors by field name, each a sentence naming the field (the error summary's lines).
    ``names`` renames fields, where the form calls them otherwise than the service (``url`` as
    ``webhook_url``, say)."""
    found: dict[str, str] = {}
    names = names or {}
    if isinstance(error, InvalidInput):
        for item in error.errors:
            name = names.get(item.field) or names.get(item.field.split("[")[0].split(".")[0])
            name = name or item.field.split("[")[0].split(".")[0] or "form"
            found.setdefault(name, field_error(name, plain_words(item) if item.code else translated(item.message)))
        return found
    for detail in error.errors():
        name = str(detail["loc"][0]) if detail["loc"] else "form"
        name = names.get(name, name)
        if detail["type"] in _PROBLEMS:
            problem = _(_PROBLEMS[detail["type"]]) % dict(detail.get("ctx") or {})
        else:
            problem = translated(str(detail["msg"]).removeprefix("Value error, "))
        found.setdefault(name, field_error(name, problem))
    return found
