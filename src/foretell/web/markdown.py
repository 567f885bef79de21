"""Markdown for agents and terminals: /llms.txt, a model's llms.txt, the model list."""

from __future__ import annotations

import json
from typing import Any

from foretell.core.models import Model
from foretell.web.fields import Field, example_input, input_fields, output_kind, output_summary
from foretell.web.snippets import snippets


def _cell(value: Any) -> str:
    """A table cell: inline code for values, pipes and newlines escaped."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text.replace("|", "\\|").replace("\n", " ")


def _constraints(f: Field) -> str:
    parts = []
    if f.minimum is not None:
        parts.append(f"≥ {f.minimum:g}")
    if f.maximum is not None:
        parts.append(f"≤ {f.maximum:g}")
    if f.min_length is not None:
        parts.append(f"length ≥ {f.min_length}")
    if f.max_length is not None:
        parts.append(f"length ≤ {f.max_length}")
    if f.pattern:
        parts.append(f"matches `{_cell(f.pattern)}`")
    if f.choices:
        parts.append("one of " + ", ".join(f"`{_cell(c)}`" for c in f.choices))
    if f.nullable:
        parts.append("may be null")
    if f.deprecated:
        parts.append("deprecated")
    return "; ".join(parts)


def inputs_table(fields: list[Field]) -> str:
    """The inputs as a markdown table, in x-order."""
    if not fields:
        return "This model takes no inputs.\n"
    rows = [
        "| name | type | required | default | constraints | description |",
        "|---|---|---|---|---|---|",
    ]
    for f in fields:
        default = f"`{_cell(f.default)}`" if f.has_default and f.kind != "secret" else ""
        rows.append(
            f"| `{f.name}` | {f.type_name} | {'yes' if f.required else 'no'} | {default} "
            f"| {_constraints(f)} | {_cell(f.description or '')} |"
        )
    return "\n".join(rows) + "\n"


def outputs_table(schema: dict[str, Any]) -> str:
    """The output as a markdown table: its kind, and an object's fields."""
    output = schema.get("components", {}).get("schemas", {}).get("Output", {})
    rows = ["| output | type |", "|---|---|", f"| (the output) | {output_summary(schema)} |"]
    for key, prop in output.get("properties", {}).items():
        kind = "file (URL)" if prop.get("format") == "uri" else prop.get("type", "any")
        rows.append(f"| `{key}` | {kind} |")
    return "\n".join(rows) + "\n"


def model_markdown(base: str, model: Model, auth: bool) -> str:
    """A model's llms.txt: what it does, its README, inputs, outputs, example, code."""
    fields = input_fields(model.openapi_schema)
    example = example_input(fields, model.default_example)
    parts = [
        f"# {model.full_name}\n",
        f"> {model.description or 'No description.'}\n",
        f"Run it on {base}: `POST {base}/v1/models/{model.full_name}/predictions` with "
        f'`{{"input": {{...}}}}`. Version `{model.version}`. '
        f"Web page: {base}/{model.full_name}. API guide: {base}/llms.txt\n",
    ]
    if not model.is_described:
        parts.append(
            "The model is still loading, so its schema is not known yet; predictions sent now "
            "wait for it. Fetch this page again in a minute.\n"
        )
    else:
        parts += [
            "## Inputs\n",
            inputs_table(fields),
            "## Output\n",
            outputs_table(model.openapi_schema),
        ]
    parts += ["## Example input\n", "```json\n" + json.dumps(example, indent=2) + "\n```\n"]
    if model.default_example and model.default_example.get("output") is not None:
        output = json.dumps(model.default_example["output"], indent=2, ensure_ascii=False)
        parts += ["Its output:\n", f"```json\n{output}\n```\n"]
    streaming = output_kind(model.openapi_schema) == "stream"
    parts.append("## Run it\n")
    for snippet in snippets(base, model.full_name, streaming, auth):
        fence = {"curl": "bash"}.get(snippet.language, snippet.language)
        parts.append(f"{snippet.label}:\n\n```{fence}\n{snippet.fill(example).rstrip()}\n```\n")
    if model.readme:
        parts += ["## README\n", _demote(model.readme).strip() + "\n"]
    return "\n".join(parts)


def _demote(readme: str) -> str:
    """The README's headings two levels down, so they sit under our `## README`."""
    lines, fenced = [], False
    for line in readme.splitlines():
        fenced ^= line.startswith("```")
        lines.append("##" + line if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def models_markdown(base: str, models: list[Model]) -> str:
    """The hosted models as a markdown list, each linking to its llms.txt."""
    if not models:
        return "No models are hosted here.\n"
    return (
        "\n".join(
            f"- [{m.full_name}]({base}/{m.full_name}/llms.txt): {m.description or 'no description'}"
            for m in models
        )
        + "\n"
    )


def server_guide(base: str, models: list[Model], auth: bool, output_ttl_s: float) -> str:
    """/llms.txt: this server's API, workflow first."""
    token = (
        "Send `Authorization: Bearer <token>` on every call (a token comes from `foretell tokens create`)."
        if auth
        else "This server runs with `--no-auth`: no token is needed."
    )
    hdr = ' -H "Authorization: Bearer $REPLICATE_API_TOKEN"' if auth else ""
    shown = next((m for m in models if m.default_example), models[0] if models else None)
    name = shown.full_name if shown else "OWNER/NAME"
    example = (
        example_input(input_fields(shown.openapi_schema), shown.default_example) if shown else {}
    )
    body = json.dumps({"input": example}, ensure_ascii=False).replace("'", "'\\''")
    return f"""# foretell at {base}

> A Replicate-compatible HTTP API that runs Cog models on this machine. The official
> `replicate` clients work unchanged: Python `replicate.Client(base_url="{base}")`,
> JavaScript `new Replicate({{ baseUrl: "{base}/v1" }})`. Every route also answers without `/v1`.

{token} Errors are JSON with `detail`; a bad input is a 422 whose `invalid_fields` name each field.

## Workflow

1. **Choose a model**: `GET {base}/v1/models` lists them; `GET {base}/v1/search?query=WORDS` searches.
   Each model's own guide is at `{base}/{{owner}}/{{name}}/llms.txt` (see the list below).
2. **Read its schema**: `GET {base}/v1/models/{{owner}}/{{name}}` →
   `latest_version.openapi_schema.components.schemas.Input` (inputs: types, defaults,
   `minimum`/`maximum`, choices as `allOf` + `$ref` to an enum) and `.Output`. An empty schema
   means the model is still loading (`setup.status` says how far it is).
3. **Create a prediction**: `POST {base}/v1/models/{{owner}}/{{name}}/predictions` with
   `{{"input": {{...}}}}` → `201` with `id`, `status` and `urls` (`get`, `cancel`, `stream`, `web`).
   File inputs are `http(s)` URLs or `data:` URIs; upload a local file first with
   `POST {base}/v1/files` (multipart, part `content`) and pass the file's `urls.get`.
4. **Get the result**, one of:
   - wait: send `Prefer: wait` (up to 60 s; `Prefer: wait=N`) and the response holds the output;
   - poll: `GET urls.get` until `status` is `succeeded`, `failed` or `canceled`;
   - webhook: add `"webhook": "https://..."` and optionally `"webhook_events_filter":
     ["start", "output", "logs", "completed"]`; deliveries are signed (Standard Webhooks;
     secret from `GET {base}/v1/webhooks/default/secret`) and listed at
     `GET {base}/v1/predictions/{{id}}/webhooks`;
   - stream: `GET urls.stream` (Server-Sent Events, no token needed): `output` events carry
     each token or item, then `logs`, `error`, and `done`.
5. **Cancel**: `POST urls.cancel`. A `Cancel-After: 5m` header on create cancels it after that long.
6. **Chain models**: pass one prediction's output URL as the next prediction's file input; the
   server reads it from its own storage.
7. **Download outputs before they expire**: output file URLs are signed and valid for
   {output_ttl_s:g} s; fetch them (no token needed) and keep the bytes.

Example, `{name}`:

```bash
curl -s -X POST {base}/v1/models/{name}/predictions{hdr} \\
  -H "Content-Type: application/json" -H "Prefer: wait" -d '{body}'
```

History: `GET {base}/v1/predictions` (newest first, `next` cursor). Browser playground: {base}/
OpenAPI document of this API: {base}/openapi.json. MCP clients: connect to {base}/mcp
(streamable HTTP, the same token), or run `foretell mcp` (stdio).

## Models

{models_markdown(base, models)}"""
