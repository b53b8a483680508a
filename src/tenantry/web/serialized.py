"""Answers serialized once, without a response model instance per item.

Through a route's ``response_model``, a page of 50 members was 50 models built and validated by the service,
the page validated again by FastAPI and then serialized: twice the work of serializing the values. A route
whose values the service already shaped from rows it read returns ``serialized(...)`` instead; FastAPI
passes a ``Response`` through untouched, and the route's declared ``response_model`` still documents the
answer (the OpenAPI document does not change).
"""

from typing import Any

from fastapi import Response
from pydantic_core import to_json


def serialized(content: Any, status_code: int = 200) -> Response:
    """``content`` (dicts in the response model's field order, holding the types its fields hold) as the JSON
    answer: the bytes the model's own serializer writes (pydantic's datetime, JSON value and string forms).
    Nothing is validated, so only for values the service read and shaped itself."""
    return Response(to_json(content), status_code, media_type="application/json")
