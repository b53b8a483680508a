"""Webhook delivery over HTTP (the outbox worker's side): signing, sending without SSRF, settling."""
