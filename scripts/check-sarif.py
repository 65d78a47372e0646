#!/usr/bin/env python3
"""Checks an `error-render validate --format sarif` report against the SARIF
2.1.0 object model of the PyPI package sarif-pydantic, strictly: a field the
model does not know is an error (the model itself accepts any), and so is a
result without a level, a message, or a located file, a relative URI
without a uriBaseId, or a rule without an id and help.

Usage: check-sarif.py FILE [MIN_RESULTS]
Exit: 0 valid; 1 invalid; 3 sarif-pydantic missing (scripts/ci-deps.sh
installs it).
"""
import json
import sys
from urllib.parse import urlsplit

try:
    from pydantic import BaseModel
    from sarif_pydantic import Sarif
except ImportError as e:
    print(
        f"check-sarif: the PyPI package sarif-pydantic is not installed ({e}): "
        "run scripts/ci-deps.sh, or `pip install sarif-pydantic`",
        file=sys.stderr,
    )
    sys.exit(3)

# SARIF 2.1.0 properties that sarif-pydantic's models lack (run.columnKind,
# section 3.14.17 of the standard).
KNOWN_EXTRA = {"columnKind"}

problems = []


def extras(model, path):
    """Every field of `model` (recursively) that the SARIF model lacks."""
    if isinstance(model, BaseModel):
        for key in (model.model_extra or {}):
            if key not in KNOWN_EXTRA:
                problems.append(f"{path}: unknown SARIF property {key!r}")
        for name in type(model).model_fields:
            extras(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, list):
        for i, item in enumerate(model):
            extras(item, f"{path}[{i}]")
    elif isinstance(model, dict):
        for key, item in model.items():
            extras(item, f"{path}[{key!r}]")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    min_results = int(sys.argv[2]) if len(sys.argv) == 3 else 0
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    log = Sarif.model_validate(data)
    extras(log, "$")
    if log.version != "2.1.0":
        problems.append(f"version is {log.version!r}, not '2.1.0'")
    if len(log.runs) != 1:
        problems.append(f"{len(log.runs)} runs, expected 1")
    results = 0
    for r, run in enumerate(log.runs):
        rules = run.tool.driver.rules or []
        ids = [rule.id for rule in rules]
        if not rules:
            problems.append(f"runs[{r}]: no rules")
        for rule in rules:
            if not (rule.help and rule.help.text):
                problems.append(f"rule {rule.id}: no help text")
            if not (rule.short_description and rule.short_description.text):
                problems.append(f"rule {rule.id}: no shortDescription")
        for i, result in enumerate(run.results or []):
            results += 1
            where = f"runs[{r}].results[{i}]"
            if result.rule_id not in ids:
                problems.append(f"{where}: ruleId {result.rule_id!r} is not a rule")
            if result.rule_index is not None and ids[result.rule_index] != result.rule_id:
                problems.append(f"{where}: ruleIndex does not point at {result.rule_id}")
            if result.level is None:
                problems.append(f"{where}: no level")
            if not result.message.text:
                problems.append(f"{where}: no message text")
            if not result.locations:
                problems.append(f"{where}: no location")
                continue
            phys = result.locations[0].physical_location
            if phys is None or phys.artifact_location is None or not phys.artifact_location.uri:
                problems.append(f"{where}: no physicalLocation.artifactLocation.uri")
                continue
            uri = phys.artifact_location.uri
            if not urlsplit(uri).scheme and not phys.artifact_location.uri_base_id:
                problems.append(f"{where}: relative URI {uri!r} without uriBaseId")
            if phys.region is not None:
                if not phys.region.start_line or phys.region.start_line < 1:
                    problems.append(f"{where}: region without a startLine >= 1")
                if phys.region.start_column is not None and phys.region.start_column < 1:
                    problems.append(f"{where}: startColumn < 1")
    if results < min_results:
        problems.append(f"{results} results, expected at least {min_results}")
    for p in problems:
        print(f"check-sarif: {sys.argv[1]}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-sarif: {sys.argv[1]}: valid SARIF 2.1.0 ({results} results)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
