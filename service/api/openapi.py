"""API operations: one decorator parses, authorises and documents each view.

The pydantic/SQLModel schemas that validate a request are the ones the OpenAPI
document is generated from, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from pydantic import BaseModel, TypeAdapter, ValidationError

from ..db import commit_request
from ..errors import BadRequest
from ..models.types import MAX_ID
from .context import require_principal

OPENAPI_VERSION = "3.1.0"
# app.extensions key: the operations of the blueprints registered on that app.
OPERATIONS_KEY = "smartfab.operations"
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
# Every schema lives in the document's components; pydantic's own `#/$defs/…` would not resolve.
REF_TEMPLATE = "#/components/schemas/{model}"
# An `<int:…>` path part: a record's id (the router answers 404 past the largest).
_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


@dataclass(frozen=True)
class Operation:
    name: str
    rule: str
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: Any
    status: int
    auth: bool
    errors: tuple[int, ...]
    # Other successful answers: a status the view may also give, other media types it may send.
    also: tuple[int, ...] = ()
    media: tuple[str, ...] = ()


def operations(app: App) -> list[Operation]:
    """The operations of `app`, in the order their blueprints were registered."""
    found: list[Operation] = app.extensions.setdefault(OPERATIONS_KEY, [])
    return found


def _documented(op: Operation) -> Callable[[BlueprintSetupState], None]:
    def register(state: BlueprintSetupState) -> None:
        operations(state.app).append(replace(op, rule=(state.url_prefix or "") + op.rule))

    return register


def _parse_body(model: type[BaseModel]) -> BaseModel:
    raw = request.get_data(cache=False)
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise BadRequest("the request body is not valid JSON", code="malformed_json") from None
        raise


def _parse_query(model: type[BaseModel]) -> BaseModel:
    args = request.args.to_dict(flat=True)
    return model.model_validate(args)


def operation(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    auth: bool = True,
    errors: tuple[int, ...] = (),
    also: tuple[int, ...] = (),
    media: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Register `view` at `rule`; it receives `body=` and `query=` already validated."""
    adapter = TypeAdapter(response) if response is not None else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @wraps(view)
        def handler(**kwargs: Any) -> Response:
            if auth:
                g.principal = require_principal()
            if body is not None:
                kwargs["body"] = _parse_body(body)
            if query is not None:
                kwargs["query"] = _parse_query(query)
            result = view(**kwargs)
            # The request is the unit of work: what its view did is kept only if it succeeded.
            commit_request()
            if isinstance(result, Response):
                return result
            payload = adapter.dump_python(result, mode="json") if adapter else result
            answer = jsonify(payload)
            answer.status_code = status
            return answer

        bp.add_url_rule(rule, view.__name__, handler, methods=[method])
        documented = Operation(
            view.__name__,
            rule,
            method.lower(),
            summary,
            bp.name,
            body,
            query,
            response,
            status,
            auth,
            errors,
            also,
            media,
        )
        bp.record(_documented(documented))  # listed per app, when `bp` is registered on it
        return handler

    return decorate


def _json_schema(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of `tp`, its nested definitions lifted into `components`."""
    schema = TypeAdapter(tp).json_schema(ref_template=REF_TEMPLATE)
    for name, definition in schema.pop("$defs", {}).items():
        if components.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are both named {name!r}")
    return schema


def _schema(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = _json_schema(tp, components)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        components[tp.__name__] = schema
        return {"$ref": f"#/components/schemas/{tp.__name__}"}
    return schema


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERROR_TEXT = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    422: "Validation failed or a rule is broken",
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3 document of every registered operation."""
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations(current_app):
        path = _PARAM.sub(r"{\2}", op.rule)
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": _ID_SCHEMA if conv == "int" else {"type": "string"},
            }
            for conv, name in _PARAM.findall(op.rule)
        ]
        if op.query is not None:
            schema = _json_schema(op.query, components)
            required = set(schema.get("required", ()))
            for name, prop in schema.get("properties", {}).items():
                parameters.append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
        entry: dict[str, Any] = {
            "summary": op.summary,
            "tags": [op.tag],
            # The blueprint as well: two areas may each have a view named `list_`.
            "operationId": f"{op.tag}_{op.name.strip('_')}",
            "parameters": parameters,
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        ok: dict[str, Any] = {"description": "Success"}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": _schema(op.response, components)}}
        for media_type in op.media:
            ok.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
        responses: dict[str, Any] = {str(code): ok for code in sorted({op.status, *op.also})}
        codes = set(op.errors) | {400, 422} if (op.body or op.query) else set(op.errors)
        if op.auth:
            codes |= {401}
        for code in sorted(codes):
            responses[str(code)] = _error_response(_ERROR_TEXT.get(code, "Error"))
        entry["responses"] = responses
        if op.auth:
            entry["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[op.method] = entry
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "smartfab API", "version": current_app.config.get("VERSION", "1")},
        # No `servers`: the default is this server's "/", and a one-entry list only adds an
        # unlabelled server picker to the docs page.
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
