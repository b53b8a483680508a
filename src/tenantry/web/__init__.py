"""What every HTTP surface shares: request-body limits and JSON decoding, the database-error mapping, the
allowed methods of a path, and the offline API docs."""
