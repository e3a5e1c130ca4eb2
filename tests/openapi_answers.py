"""Checks answers the proxy gave against the OpenAPI document's schemas, strictly.

Usage: openapi_answers.py DOCUMENT SAMPLES

SAMPLES is a JSON list of {"label", "path", "status", "body"}: `path` is the document's path
(a template such as /v1/alfa/registries/{requestId}), `status` the HTTP status received,
`body` the JSON received. Each body must validate against the schema the document gives for
that path and status (JSON Schema 2020-12, formats checked). Strictly: every object schema of
the document's components that lists its properties and does not say what other properties
may be gets `unevaluatedProperties: false` here, so a field the proxy writes without a schema
fails (a model's `extra`, the provider's own unnamed fields, says `additionalProperties: true`
and stays open). A status the document does not list for the path fails too.

Run by tests/tests/openapi.rs with the Python of target/python (scripts/ensure-deps.sh
installs jsonschema there with openapi-spec-validator).
"""

import copy
import json
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:proverka:openapi"


def extended_bases(schemas):
    """Components used as a base that another schema extends with its own properties (a
    tagged enum's variant: `$ref` beside `properties`): closing them would refuse the
    extension's fields, so the extending schema is closed instead."""
    found = set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and "properties" in node:
                found.add(ref.rsplit("/", 1)[1])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schemas)
    return found


def close(node, top_level_open):
    if isinstance(node, dict):
        if (
            "properties" in node
            and "additionalProperties" not in node
            and "unevaluatedProperties" not in node
            and not top_level_open
        ):
            node["unevaluatedProperties"] = False
        for value in node.values():
            close(value, False)
    elif isinstance(node, list):
        for value in node:
            close(value, False)


def pointer(*parts):
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def main():
    document = json.load(open(sys.argv[1], encoding="utf-8"))
    samples = json.load(open(sys.argv[2], encoding="utf-8"))
    strict = copy.deepcopy(document)
    schemas = strict["components"]["schemas"]
    bases = extended_bases(schemas)
    for name, schema in schemas.items():
        close(schema, name in bases)
    registry = Registry().with_resource(
        BASE, Resource(contents=strict, specification=DRAFT202012)
    )
    failures = []
    for sample in samples:
        label, path, status = sample["label"], sample["path"], str(sample["status"])
        operation = strict["paths"].get(path, {}).get("get")
        if operation is None:
            failures.append(f"{label}: {path} is not in the document")
            continue
        responses = operation["responses"]
        key = status if status in responses else "default"
        if key not in responses:
            failures.append(f"{label}: {path} answered {status}, which the document does not list")
            continue
        content = responses[key].get("content", {}).get("application/json")
        if content is None:
            failures.append(f"{label}: {path} {status} has no application/json schema")
            continue
        where = pointer("paths", path, "get", "responses", key, "content", "application/json", "schema")
        validator = Draft202012Validator(
            {"$ref": BASE + "#" + where},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(sample["body"]), key=lambda e: list(e.path))
        for error in errors:
            detail = "; ".join(sorted({c.message for c in (error.context or [])}))[:600]
            failures.append(
                f"{label}: {path} {status} at {'/'.join(map(str, error.path)) or '(root)'}: "
                f"{error.message[:400]}" + (f" [{detail}]" if detail else "")
            )
    for failure in failures:
        print(failure)
    print(f"{len(samples)} answers checked, {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
