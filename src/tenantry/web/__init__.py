"""What every HTTP surface shares: request-body limits and JSON decoding, the database-error mapping, the
allowed methods of a path, the offline API docs, and
the metrics of every request (``web.metrics``)."""
