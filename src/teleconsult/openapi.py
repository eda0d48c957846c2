"""The OpenAPI 3.1 document, generated from the endpoints' pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from . import __version__
from .api import PREFIX, Endpoint

_REF = "#/components/schemas/{model}"

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "fields": {"type": "object"},
    },
}


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return {}
    schema = model.model_json_schema(ref_template=_REF, mode="serialization")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    name = model.__name__.replace("[", "_").replace("]", "").replace(",", "_")
    components[name] = schema
    return {"$ref": _REF.format(model=name)}


def _input_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF, mode="validation", by_alias=True)
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel], components: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF, mode="validation", by_alias=True)
    components.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        # Query values are single strings; describe simple types only.
        if "anyOf" in prop:
            options = [o for o in prop["anyOf"] if o.get("type") != "null"]
            if len(options) == 1:
                prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **options[0]}
        prop.pop("default", None)
        params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return params


def build_openapi(endpoints: list[Endpoint]) -> dict[str, Any]:
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        path = PREFIX + ep.path
        op: dict[str, Any] = {
            "operationId": ep.handler.__name__,
            "summary": ep.summary,
            "tags": ep.tags,
            "parameters": [],
            "responses": {},
        }
        for param in re.findall(r"{(\w+)}", ep.path):
            op["parameters"].append(
                {
                    "name": param,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                }
            )
        if ep.query is not None:
            op["parameters"].extend(_query_parameters(ep.query, components))
        if ep.body is not None:
            op["requestBody"] = {
                "required": not ep.optional_body,
                "content": {"application/json": {"schema": _input_schema(ep.body, components)}},
            }
        ok: dict[str, Any] = {"description": "Success"}
        if ep.produces == "application/json":
            ok["content"] = {"application/json": {"schema": _schema(ep.response, components)}}
        else:
            ok["content"] = {ep.produces: {"schema": {"type": "string"}}}
        op["responses"][str(ep.status)] = ok
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        codes = ["400", "422"] if (ep.body or ep.query) else []
        if not ep.public:
            codes += ["401", "403", "404"]
            op["security"] = [{"bearer": []}]
        if ep.method in ("POST", "PATCH"):
            codes.append("409")
        for code in codes:
            op["responses"][code] = {"description": "Error", "content": error}
        if ep.path == "/auth/login":
            op["responses"]["401"] = {"description": "Wrong credentials", "content": error}
            op["responses"]["429"] = {"description": "Too many failures", "content": error}
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Teleconsult API", "version": __version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
