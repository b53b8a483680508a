"""What every HTTP surface shares: the unit-of-work route (``web.routing``), request-body limits and JSON
decoding, the database-error mapping, the allowed methods of a path, the offline API docs, and the metrics of
every request (``web.metrics``). Surfaces import from here, never from one another (``api`` is a surface)."""
