"""``/openapi.json``: the selected dialect's endpoints, generated from its route table.

Every ``Route`` (the dialect's, the websocket upgrade, the admin endpoints) becomes one
operation: its parameters from the route's ``Param`` list, its answers from the dialect's
error statuses. Nothing is written per endpoint by hand, so the document cannot drift from what
the server routes.
"""

from __future__ import annotations

import json
import re

from surgeproof.exchange.dialects.base import ServedDialect
from surgeproof.exchange.routes import Param, Route

OPENAPI_VERSION = "3.0.3"

_TYPES = {"string", "integer", "number", "boolean", "array", "object"}


def _schema(param: Param) -> dict:
    schema: dict = {"type": param.type if param.type in _TYPES else "string"}
    if param.type == "array":
        schema["items"] = {}
    if param.enum:
        schema = {"type": "string", "enum": list(param.enum)}
    return schema


def _json_answer(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {}}}}


def _answers(route: Route, dialect: ServedDialect) -> dict:
    """The statuses an endpoint answers with, in this dialect."""
    out = {str(route.ok_status): _json_answer("success")}
    if route.path.startswith("/admin/"):
        out.update({"400": _json_answer("bad input"), "403": _json_answer("not loopback")})
        if "{" in route.path or route.method == "POST":
            out["404"] = _json_answer("unknown market")
        return out
    facts = dialect.openapi
    if facts.ok != "success":
        out["200"] = _json_answer(facts.ok)
    statuses = dict(facts.errors)
    if route.spec.private:
        statuses.update(facts.private_errors)
    statuses["503"] = "shed by the capacity model"
    if route.method in ("POST", "PUT", "DELETE"):
        statuses["413"] = "body over the size limit"
    out.update({code: _json_answer(text) for code, text in statuses.items()})
    return out


def _operation(route: Route, dialect: ServedDialect) -> dict:
    op: dict = {
        "summary": route.summary or f"{route.method} {route.path}",
        "operationId": route.method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", route.path),
        "tags": list(route.tags) or [route.spec.family],
        "responses": _answers(route, dialect),
    }
    params = [
        {
            "name": p.name,
            "in": p.where,
            "required": p.required or p.where == "path",
            "schema": _schema(p),
            **({"description": p.description} if p.description else {}),
        }
        for p in route.params
        if p.where in ("query", "path", "header")
    ]
    if params:
        op["parameters"] = params
    body = [p for p in route.params if p.where == "body"]
    if body:
        op["requestBody"] = {
            "required": any(p.required for p in body),
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {p.name: _schema(p) for p in body},
                        "required": [p.name for p in body if p.required] or None,
                    }
                }
            },
        }
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        if schema["required"] is None:
            del schema["required"]
    if route.spec.private:
        op["security"] = [{"apiKey": []}]
    return op


def _security(dialect: ServedDialect) -> dict:
    return dict(dialect.openapi.security)


def document(dialect: ServedDialect, routes: list[Route], server_url: str | None = None) -> dict:
    """The OpenAPI document of ``routes`` as ``dialect`` answers them."""
    paths: dict = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, dialect)
    doc: dict = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"surgeproof embedded exchange: {dialect.title}",
            "version": dialect.name,
            "description": "The app login (not part of the public API): "
            + "; ".join(dialect.login),
        },
        "paths": paths,
        "components": {"securitySchemes": {"apiKey": _security(dialect)}},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def document_bytes(dialect: ServedDialect, routes: list[Route]) -> bytes:
    return json.dumps(document(dialect, routes), ensure_ascii=False, indent=1).encode()
