"""Email: composed from templates into the outbox, delivered by a sink (SMTP, or the log without SMTP)."""
