#!/usr/bin/env python3
"""Validates vedvm's JSON output against the schemas of docs/json/ (docs/json.md).

    check_json.py SCHEMA_DIR SCHEMA DOCUMENT          one JSON document (SCHEMA: a file
                                                      name, with a #/$defs/... part or not)
    check_json.py SCHEMA_DIR SCHEMA DOCUMENT --lines  each line that starts with '{'
                                                      (--trace=json; at least one)
    check_json.py SCHEMA_DIR --examples MARKDOWN      the examples of docs/json.md: each
                                                      ```json block after a line
                                                      `<!-- example: SCHEMA [lines] -->`

Every *.schema.json of SCHEMA_DIR is loaded under its file name, which is how the
schemas refer to each other ("common.schema.json#/$defs/value"). Exit 0 when everything
is valid, 1 when something is not (each error printed with where it is), 2 when the
check itself cannot run (no jsonschema module, a schema that is not a valid schema).
Works with jsonschema 4.10 (Debian 12's python3-jsonschema) and with later versions.
"""
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    print("check_json: the python module jsonschema is missing (Debian: apt-get install python3-jsonschema)",
          file=sys.stderr)
    sys.exit(2)


# The schemas have no "$id": they refer to each other by file name, relative to wherever
# they are. Here they are given one under a common base, which nothing fetches.
BASE = "https://ved.invalid/docs/json/"


def load_schemas(directory):
    schemas = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".schema.json"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                schema = json.load(f)
            schema.setdefault("$id", BASE + name)
            schemas[BASE + name] = schema
    for name, schema in schemas.items():
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            print(f"check_json: {name} is not a valid JSON Schema: {e.message}", file=sys.stderr)
            sys.exit(2)
    return schemas


def validator_for(schemas, name):
    """The validator of schema file `name`, or of a part of one (`common.schema.json#/$defs/value`)."""
    name = BASE + name
    if name.split("#")[0] not in schemas:
        print(f"check_json: no schema {name}", file=sys.stderr)
        sys.exit(2)
    if "#" in name:
        wrapper = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": BASE + "wrapper.json", "$ref": name}
        schemas = dict(schemas)
        schemas[BASE + "wrapper.json"] = wrapper
        name = BASE + "wrapper.json"
    try:  # jsonschema >= 4.18
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012
        registry = Registry().with_resources(
            [(n, DRAFT202012.create_resource(s)) for n, s in schemas.items()])
        return Draft202012Validator(schemas[name], registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver(base_uri=name, referrer=schemas[name], store=dict(schemas))
        return Draft202012Validator(schemas[name], resolver=resolver)


def errors_of(validator, document, where):
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        path = "/".join(str(p) for p in error.absolute_path)
        # oneOf/anyOf failures say little by themselves: name the closest branch's error.
        detail = error.message
        if error.context:
            best = jsonschema.exceptions.best_match(error.context)
            detail += f" (closest: {best.message} at /{'/'.join(str(p) for p in best.absolute_path)})"
        found.append(f"{where}: at /{path}: {detail}"[:2000])
    return found


def check(validator, text, lines, where):
    documents = []
    if lines:
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith("{"):
                documents.append((f"{where}:{number}", line))
        if not documents:
            return [f"{where}: no JSON line"]
    else:
        documents.append((where, text))
    problems = []
    for at, doc in documents:
        try:
            value = json.loads(doc)
        except json.JSONDecodeError as e:
            problems.append(f"{at}: not JSON: {e}")
            continue
        problems += errors_of(validator, value, at)
    return problems


def examples(schemas, markdown):
    with open(markdown, encoding="utf-8") as f:
        text = f.read()
    pattern = re.compile(r"<!-- example: (\S+)( lines)? -->\s*\n```json\n(.*?)\n```", re.S)
    found = list(pattern.finditer(text))
    if not found:
        return [f"{markdown}: no examples"]
    problems = []
    for m in found:
        line = text.count("\n", 0, m.start()) + 1
        problems += check(validator_for(schemas, m.group(1)), m.group(3), bool(m.group(2)), f"{markdown}:{line}")
    return problems


def main(argv):
    if len(argv) == 4 and argv[2] == "--examples":
        problems = examples(load_schemas(argv[1]), argv[3])
    elif len(argv) in (4, 5) and (len(argv) == 4 or argv[4] == "--lines"):
        with open(argv[3], encoding="utf-8") as f:
            text = f.read()
        problems = check(validator_for(load_schemas(argv[1]), argv[2]), text, len(argv) == 5, argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
