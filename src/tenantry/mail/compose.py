"""An email from its templates: ``email/<name>.subject.txt``, ``email/<name>.txt`` and ``email/<name>.html``,
written in the recipient's language."""

import re
from dataclasses import dataclass
from typing import Any

from tenantry import i18n
from tenantry.templating import Templates

_BLANKS = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class ComposedEmail:
    subject: str
    text: str
    html: str


def compose(templates: Templates, name: str, context: dict[str, Any], *, lang: str | None = None) -> ComposedEmail:
    """Render the email in ``lang`` (the recipient's locale, else the org's default; English when None)."""
    with i18n.language(lang):
        # One line; a no-break space (French before ":") is kept, unlike with str.split().
        subject = _BLANKS.sub(" ", templates.render(f"email/{name}.subject.txt", context)).strip()
        return ComposedEmail(
            subject=subject,
            text=templates.render(f"email/{name}.txt", context),
            html=templates.render(f"email/{name}.html", context),
        )
