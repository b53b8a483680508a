"""An email from its templates: ``email/<name>.subject.txt``, ``email/<name>.txt`` and ``email/<name>.html``."""

from dataclasses import dataclass
from typing import Any

from tenantry.templating import Templates


@dataclass(frozen=True)
class ComposedEmail:
    subject: str
    text: str
    html: str


def compose(templates: Templates, name: str, context: dict[str, Any]) -> ComposedEmail:
    subject = " ".join(templates.render(f"email/{name}.subject.txt", context).split())
    return ComposedEmail(
        subject=subject,
        text=templates.render(f"email/{name}.txt", context),
        html=templates.render(f"email/{name}.html", context),
    )
