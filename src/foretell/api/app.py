"""The Starlette application: Replicate's routes, under /v1 and without the prefix."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from foretell.api import (
    collections,
    deployments,
    files,
    health,
    library,
    models,
    predictions,
    push,
    streams,
    trainings,
)
from foretell.api.errors import HANDLERS
from foretell.api.openapi import openapi_json
from foretell.api.state import ApiState
from foretell.web import routes as web_routes


def _routes() -> list[BaseRoute]:
    # matched in order: the creates (the hot path) first
    return [
        Route(
            "/models/{owner}/{name}/predictions",
            predictions.create_model_prediction,
            methods=["POST"],
        ),
        Route(
            "/deployments/{owner}/{name}/predictions",
            deployments.create_deployment_prediction,
            methods=["POST"],
        ),
        Route("/predictions", predictions.create_prediction, methods=["POST"]),
        Route("/predictions", predictions.list_predictions, methods=["GET"]),
        Route("/predictions/{id}", predictions.get_prediction, methods=["GET"]),
        Route("/predictions/{id}/cancel", predictions.cancel_prediction, methods=["POST"]),
        Route("/predictions/{id}/webhooks", predictions.list_webhook_deliveries, methods=["GET"]),
        Route("/deployments", deployments.create_deployment, methods=["POST"]),
        Route("/deployments", deployments.list_deployments, methods=["GET"]),
        Route("/deployments/{owner}/{name}", deployments.get_deployment, methods=["GET"]),
        Route("/deployments/{owner}/{name}", deployments.update_deployment, methods=["PATCH"]),
        Route("/deployments/{owner}/{name}", deployments.delete_deployment, methods=["DELETE"]),
        Route("/models", models.list_models, methods=["GET"]),
        Route("/models", library.create_model, methods=["POST"]),
        Route("/models", models.search_models, methods=["QUERY"]),
        Route("/models/{owner}/{name}", models.get_model, methods=["GET"]),
        Route("/models/{owner}/{name}", library.update_model, methods=["PATCH"]),
        Route("/models/{owner}/{name}", library.delete_model, methods=["DELETE"]),
        Route("/models/{owner}/{name}/versions", models.list_versions, methods=["GET"]),
        Route("/models/{owner}/{name}/versions", push.push_version, methods=["POST"]),
        Route("/models/{owner}/{name}/versions/{id}/build", push.get_build, methods=["GET"]),
        Route("/models/{owner}/{name}/readme", models.get_readme, methods=["GET"]),
        Route("/models/{owner}/{name}/examples", models.list_examples, methods=["GET"]),
        Route("/models/{owner}/{name}/versions/{version}", models.get_version, methods=["GET"]),
        Route(
            "/models/{owner}/{name}/versions/{id}/trainings",
            trainings.create_training,
            methods=["POST"],
        ),
        Route("/trainings", trainings.list_trainings, methods=["GET"]),
        Route("/trainings/{id}", trainings.get_training, methods=["GET"]),
        Route("/trainings/{id}/cancel", trainings.cancel_training, methods=["POST"]),
        Route(
            "/models/{owner}/{name}/versions/{version}", library.delete_version, methods=["DELETE"]
        ),
        Route("/search", models.search, methods=["GET"]),
        Route("/collections", collections.list_collections, methods=["GET"]),
        Route("/collections/{slug}", collections.get_collection, methods=["GET"]),
        Route("/hardware", models.hardware, methods=["GET"]),
        Route("/account", models.account, methods=["GET"]),
        Route("/webhooks/default/secret", models.webhook_secret, methods=["GET"]),
        Route("/files", files.create_file, methods=["POST"]),
        Route("/files", files.list_files, methods=["GET"]),
        Route("/files/{id}", files.get_file, methods=["GET"]),
        Route("/files/{id}", files.delete_file, methods=["DELETE"]),
        Route("/files/{id}/download", files.download_file, methods=["GET"]),
        Route("/outputs/{path:path}", files.download_output, methods=["GET"]),
        Route("/streams/{account}/{id}/{tag}", streams.stream_prediction, methods=["GET"]),
    ]


def create_app(state: ApiState) -> Starlette:
    """The API app over an assembled ApiState (see foretell.server)."""
    from foretell.mcp.http import McpEndpoint  # the MCP front end over this same API

    routes = _routes()
    mcp = McpEndpoint()
    # Python client 1.x wants base URLs without /v1, the others with it: serve both.
    # The playground (/, /{owner}/{name}, /p/{id}, llms.txt) comes last: the API wins.
    app = Starlette(
        routes=[
            Mount("/v1", routes=routes),  # first: it is the hot path
            Route("/mcp", mcp),
            Route("/openapi.json", openapi_json, methods=["GET"]),
            *health.routes(),  # /health, /ready, /metrics: not Replicate's, not under /v1
            *routes,
            *web_routes(),
        ],
        exception_handlers=HANDLERS,
    )
    mcp.bind(app)
    app.state.api = state
    app.state.mcp = mcp  # foretell.server runs its session manager (mcp.running())
    return app
