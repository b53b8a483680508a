"""Jinja2 templates for emails and hosted pages: the built-in ones, or a deployer's of the same name.

``TENANTRY_TEMPLATES_DIR`` is searched first, so a deployer replaces any template (``email/invitation.html``,
``ui/base.html``…) by putting a file of that name there; the others keep coming from the package.

One environment serves every language: ``jinja2.ext.i18n`` is installed with gettext callables that read the
language of the work at hand (``tenantry.i18n.current``), so ``{% trans %}`` and ``_()`` in a template follow
the request or the recipient. Filters ``date``, ``datetime`` and ``number`` format for that language.
"""

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from tenantry import i18n
from tenantry.settings import Settings

BUILTIN = Path(__file__).parent / "templates"


class Templates:
    def __init__(self, settings: Settings) -> None:
        loaders: list[FileSystemLoader | PackageLoader] = []
        if settings.templates_dir is not None:
            loaders.append(FileSystemLoader(settings.templates_dir))
        loaders.append(PackageLoader("tenantry", "templates"))
        self.environment = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html"], default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.i18n"],
        )
        self.environment.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
        )
        self.environment.policies["ext.i18n.trimmed"] = True
        self.environment.globals["current_language"] = i18n.current
        self.environment.filters["date"] = i18n.format_date
        self.environment.filters["datetime"] = i18n.format_datetime
        self.environment.filters["number"] = i18n.format_number
        self.environment.globals["base_url"] = settings.base_url

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.environment.get_template(name).render(context)
