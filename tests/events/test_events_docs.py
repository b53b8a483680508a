"""docs/events.md holds what runs: its Python and Node verifiers accept a real signature (two after a
rotation) and refuse a forged one, its catalog lists every event type, its Grafana list every metric."""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks import WebhookVerificationError

from tenantry.core.events.catalog import EVENT_TYPES
from tenantry.core.webhooks.secrets import new_secret, signature


@pytest.fixture(scope="module")
def events_md(project_root: Path) -> str:
    return (project_root / "docs" / "events.md").read_text()


def _snippet(text: str, language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)
    (found,) = [block for block in blocks if containing in block]
    return str(found)


def _delivery(secrets: list[str]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": "6b11b7b5a1c2d3e4f5a6b7c8", "type": "user.created", "data": {"é": "ü"}}).encode()
    timestamp = int(time.time())
    signatures = " ".join(signature(secret, "6b11b7b5a1c2d3e4f5a6b7c8", timestamp, body) for secret in secrets)
    headers = {"webhook-id": "6b11b7b5a1c2d3e4f5a6b7c8", "webhook-timestamp": str(timestamp)}
    return body, {**headers, "webhook-signature": signatures}


def test_the_python_verifier_of_the_docs_accepts_deliveries_and_refuses_forgeries(events_md: str) -> None:
    secret, old = new_secret(), new_secret()
    handled: list[Any] = []
    source = _snippet(events_md, "python", "Webhook(").replace('"whsec_…"', repr(secret))
    scope: dict[str, Any] = {"already_seen": lambda _: False, "handle": lambda *event: handled.append(event)}
    exec(compile(source, "events.md", "exec"), scope)
    for signers in ([secret], [secret, old], [old, secret]):
        scope["receive"](*_delivery(signers))
    assert [event_type for event_type, _ in handled] == ["user.created"] * 3
    body, headers = _delivery([old])
    with pytest.raises(WebhookVerificationError):
        scope["receive"](body, headers)
    with pytest.raises(WebhookVerificationError):
        scope["receive"](body.replace(b"user.created", b"user.deleted"), _delivery([secret])[1])


@pytest.mark.skipif(shutil.which("node") is None, reason="no Node.js here")
def test_the_node_verifier_of_the_docs_accepts_deliveries_and_refuses_forgeries(events_md: str, tmp_path: Path) -> None:
    secret, old = new_secret(), new_secret()
    cases = []
    for signers in ([secret], [old, secret], [old]):
        body, headers = _delivery(signers)
        cases.append({"headers": headers, "body": body.decode()})
    forged = {**cases[0], "body": cases[0]["body"].replace("user.created", "user.deleted")}
    script = tmp_path / "verify.js"
    script.write_text(
        _snippet(events_md, "js", "function verify")
        + f"""
const cases = {json.dumps([*cases, forged])};
for (const c of cases) {{
  try {{ console.log(verify({json.dumps(secret)}, c.headers, Buffer.from(c.body)).type); }}
  catch (error) {{ console.log("refused: " + error.message); }}
}}
"""
    )
    run = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.splitlines() == [
        "user.created",
        "user.created",
        "refused: bad webhook signature",
        "refused: bad webhook signature",
    ]


def test_the_catalog_of_the_docs_lists_every_event_type(events_md: str) -> None:
    catalog = events_md.split("## The catalog", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)`(?: / `([a-z_]+\.[a-z_]+)`)*", catalog, flags=re.M))
    named = {name for row in documented for name in row if name} | set(re.findall(r"`([a-z_]+\.[a-z_]+)`", catalog))
    assert sorted(EVENT_TYPES - named) == []


async def test_the_grafana_list_of_the_docs_names_every_metric_served_and_only_those(
    client: httpx.AsyncClient, events_md: str
) -> None:
    scrape = await client.get("/metrics")
    served = set()
    for family in text_string_to_metric_families(scrape.text):
        # Not prometheus-client's own process_* and python_* (one process), nor the *_created timestamps it
        # exposes for counters and histograms (which the parser may list as families of their own).
        if family.name.startswith("tenantry_") and not family.name.endswith("_created"):
            served.add(f"{family.name}_total" if family.type == "counter" else family.name)
    table = events_md.split("| metric | type | labels |", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^\| `(tenantry_[a-z_]+)`", table, flags=re.M))
    assert documented == served
