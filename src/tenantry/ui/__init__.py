"""Hosted pages (``/ui``): sign-in, the pages one-time links open, and "my account".

Server-rendered (Jinja2), usable without JavaScript, every form CSRF-protected. A GET never changes
anything: a page a link opens asks for one more click, so mail scanners and link previews that fetch
the link spend nothing.
"""
