"""A prediction as markdown, for agents that open its urls.web."""

from __future__ import annotations

import json
from typing import Any

from foretell.api.state import ApiState
from foretell.core.prediction import Prediction
from foretell.errors import NotFound


async def load_prediction(state: ApiState, account: str, prediction_id: str) -> Prediction:
    """The caller's prediction (as GET /v1/predictions/{id} reads it)."""
    stored = await state.service.get(account, prediction_id)
    if stored is None:
        raise NotFound("The requested resource could not be found.")
    return stored


def _block(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    fence = "```" if "```" not in text else "~~~~"
    return f"{fence}\n{text}\n{fence}\n"


def prediction_markdown(body: dict[str, Any], concatenate: bool) -> str:
    """The prediction's JSON (Replicate's shape) as a short markdown report; `concatenate`:
    the output is a text stream, shown joined."""
    output = body.get("output")
    if concatenate and isinstance(output, list):
        output = "".join(str(token) for token in output)
    times = [
        f"- {k.replace('_', ' ')}: {body[k]}"
        for k in ("created_at", "started_at", "completed_at")
        if body.get(k)
    ]
    metrics = [f"- {k}: {v}" for k, v in (body.get("metrics") or {}).items()]
    parts = [
        f"# Prediction {body['id']}\n",
        f"- model: `{body['model']}` (version `{body['version']}`)",
        f"- status: **{body['status']}**",
        *times,
        f"- API: {body['urls']['get']}\n",
        "## Input\n",
        _block(body["input"]),
        "## Output\n",
        _block(output) if output is not None else "(none yet)\n",
    ]
    if body.get("error"):
        parts += ["## Error\n", _block(body["error"])]
    if metrics:
        parts += ["## Metrics\n", "\n".join(metrics) + "\n"]
    if body.get("logs"):
        parts += ["## Logs\n", _block(body["logs"])]
    return "\n".join(parts)


def history_markdown(base: str, predictions: list[Prediction]) -> str:
    """Predictions, newest first, as a markdown table linking to each one's page."""
    if not predictions:
        return "# Your predictions\n\nNone yet.\n"
    rows = ["| prediction | model | status | created |", "|---|---|---|---|"]
    for p in predictions:
        created = p.created_at.isoformat(timespec="seconds")
        rows.append(f"| [{p.id}]({base}/p/{p.id}) | `{p.model}` | {p.status.value} | {created} |")
    return (
        "# Your predictions\n\nNewest first; the API: `GET /v1/predictions`.\n\n"
        + "\n".join(rows)
        + "\n"
    )
