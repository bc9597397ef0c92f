"""Checks recorderd's answers against its contract, docs/openapi.yaml.

Usage: openapi_answers.py SPEC ANSWERS, where ANSWERS holds one JSON object a
line: {"method": "post", "path": "/v1/recordings" (the spec's template),
"status": 201, "body": ...} for an answer (a body of null: none), or
{"schema": "Event", "body": ...} for a value of a named schema (an event's
data line). Prints one line per answer the contract does not allow (an
undocumented path, method or status, or a body its schema refuses) and
exits 1 if there is any; prints how many were checked otherwise.

Uses openapi-schema-validator (OpenAPI 3.0's `nullable` and its JSON Schema
dialect), which scripts/setup installs with openapi-spec-validator.
"""
import json
import sys

import yaml
from openapi_schema_validator import OAS30Validator

spec = yaml.safe_load(open(sys.argv[1]))


def follow(value):
    """A response object, its $ref followed."""
    while isinstance(value, dict) and "$ref" in value:
        target = spec
        for part in value["$ref"].lstrip("#/").split("/"):
            target = target[part]
        value = target
    return value


problems = []
checked = 0
for line in open(sys.argv[2]):
    answer = json.loads(line)
    body = answer.get("body")
    if "schema" in answer:
        where = "schema " + answer["schema"]
        schema = {"$ref": "#/components/schemas/" + answer["schema"]}
    else:
        where = f'{answer["method"].upper()} {answer["path"]} {answer["status"]}'
        operation = spec["paths"].get(answer["path"], {}).get(answer["method"])
        if operation is None:
            problems.append(f"{where}: not in the contract")
            continue
        response = operation["responses"].get(str(answer["status"]))
        if response is None:
            problems.append(f"{where}: status not in the contract")
            continue
        content = follow(response).get("content", {})
        if body is None:
            if "application/json" in content:
                problems.append(f"{where}: no body, the contract has one")
            checked += 1
            continue
        if "application/json" not in content:
            problems.append(f"{where}: a JSON body, the contract has none")
            continue
        schema = content["application/json"]["schema"]
    # References resolve against this document, which holds the components.
    validator = OAS30Validator(dict(schema, components=spec["components"]))
    for error in sorted(validator.iter_errors(body), key=str):
        problems.append(f"{where}: {error.message} (at {'/'.join(map(str, error.absolute_path)) or 'the top'})")
    checked += 1

for problem in problems:
    print(problem)
if problems:
    sys.exit(1)
print(f"{checked} answers match the contract")
