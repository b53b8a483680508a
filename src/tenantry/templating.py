"""Jinja2 templates for emails and hosted pages: the built-in ones, or a deployer's of the same name.

``TENANTRY_TEMPLATES_DIR`` is searched first, so a deployer replaces any template (``email/invitation.html``,
``ui/base.html``…) by putting a file of that name there; the others keep coming from the package.
"""

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

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
        )
        self.environment.globals["base_url"] = settings.base_url

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.environment.get_template(name).render(context)
