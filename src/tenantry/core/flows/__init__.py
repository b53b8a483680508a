"""Account flows: invitations, password resets, email verification, magic links, required password changes.

Each flow issues a one-time token (``core.onetime``) and, when it mails a link, writes the email to the
outbox in the same transaction. The links open the hosted pages (``tenantry.ui``).
"""
