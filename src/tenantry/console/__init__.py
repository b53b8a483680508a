"""The admin console (``/console``): an organization's administrators manage it in the browser.

Server-rendered with the hosted pages' templates and htmx (vendored from its package, served from here);
every page and action calls the same core services under the same policies as the API, with the hosted
pages' browser session and CSRF token.
"""
