"""Copy-paste code for one run of a model: curl, the Python client, the JavaScript client.

Each snippet is a template with one marker where the input goes. The server fills it for the
model page and llms.txt; the page's script fills the same templates again with what the form
holds, so both always show the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

#: replaced by the input, rendered for the snippet's language
MARKER = "@@INPUT@@"


@dataclass(frozen=True)
class Snippet:
    """One language's code; `language` names how the input is rendered into `template`."""

    language: str  # curl, python, javascript
    label: str
    template: str

    def fill(self, value: dict[str, Any]) -> str:
        """The code with `value` as the model's input."""
        return self.template.replace(MARKER, render_input(self.language, value))


def render_input(language: str, value: dict[str, Any]) -> str:
    """The input as the language writes it (the page's script mirrors this function)."""
    if language == "curl":
        body = json.dumps({"input": value}, ensure_ascii=False, separators=(",", ":"))
        return body.replace("'", "'\\''")  # inside a single-quoted shell word
    if language == "python":
        return python_literal(value, 0)
    return json.dumps(value, indent=2, ensure_ascii=False)


def python_literal(value: Any, depth: int) -> str:
    """A JSON value as Python source (True/False/None), indented by four spaces a level."""
    pad, inner = "    " * depth, "    " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(k)}: {python_literal(v, depth + 1)}," for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value:
        items = [f"{inner}{python_literal(v, depth + 1)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if value is True or value is False or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def snippets(base: str, model: str, streaming: bool, auth: bool) -> list[Snippet]:
    """The three snippets for `model` on the server at `base` (no `/v1`)."""
    return [
        Snippet("curl", "curl", _curl(base, model, streaming, auth)),
        Snippet("python", "Python (replicate)", _python(base, model, streaming)),
        Snippet("javascript", "JavaScript (replicate)", _javascript(base, model, streaming)),
    ]


def _curl(base: str, model: str, streaming: bool, auth: bool) -> str:
    header = '  -H "Authorization: Bearer $REPLICATE_API_TOKEN" \\\n' if auth else ""
    create = f"curl -s -X POST {base}/v1/models/{model}/predictions \\\n{header}"
    lines = f'{create}  -H "Content-Type: application/json" \\\n  -H "Prefer: wait" \\\n  -d \'{MARKER}\''
    if streaming:
        lines += (
            "\n\n# or stream it as it runs: create it, then read its urls.stream (no token needed)\n"
            f"STREAM_URL=$({create}  -H \"Content-Type: application/json\" -d '{MARKER}' \\\n"
            '  | python3 -c \'import json, sys; print(json.load(sys.stdin)["urls"]["stream"])\')\n'
            'curl -sN "$STREAM_URL"'
        )
    return lines


def _python(base: str, model: str, streaming: bool) -> str:
    head = (
        "import os\n\nimport replicate\n\n"
        f'client = replicate.Client(api_token=os.environ["REPLICATE_API_TOKEN"], base_url="{base}")\n'
        f"input = {MARKER}\n"
    )
    if streaming:
        return (
            head
            + f'for event in client.stream("{model}", input=input):\n    print(event, end="")\n'
        )
    return head + f'output = client.run("{model}", input=input)\nprint(output)\n'


def _javascript(base: str, model: str, streaming: bool) -> str:
    head = (
        'import Replicate from "replicate";\n\n'
        f'const replicate = new Replicate({{ auth: process.env.REPLICATE_API_TOKEN, baseUrl: "{base}/v1" }});\n'
        f"const input = {MARKER};\n"
    )
    if streaming:
        return head + (
            f'for await (const event of replicate.stream("{model}", {{ input }})) {{\n'
            "  process.stdout.write(event.toString());\n}\n"
        )
    return (
        head
        + f'const output = await replicate.run("{model}", {{ input }});\nconsole.log(output);\n'
    )
