"""Models, versions, search and the account endpoints."""

from __future__ import annotations

from tests.server import Server


def test_model_and_version(server: Server) -> None:
    """A model carries its latest version with the Cog OpenAPI schema."""
    with server.client() as client:
        model = client.get("/v1/models/acme/echo").json()
        version = model["latest_version"]
        assert (model["owner"], model["name"], model["visibility"]) == ("acme", "echo", "public")
        assert len(version["id"]) == 64
        schema = version["openapi_schema"]["components"]["schemas"]
        assert schema["Input"]["properties"]["text"]["default"] == "x"
        same = client.get(f"/v1/models/acme/echo/versions/{version['id']}").json()
        assert same == version
        listed = client.get("/v1/models/acme/echo/versions").json()
        assert [v["id"] for v in listed["results"]] == [version["id"]]


def test_version_id_is_stable_across_restarts_of_the_same_code(server: Server) -> None:
    """The version id is derived from the model's name and schema."""
    with server.client() as client:
        first = client.get("/v1/models/acme/echo").json()["latest_version"]["id"]
        assert client.get("/v1/models/acme/echo").json()["latest_version"]["id"] == first


def test_list_and_search(server: Server) -> None:
    """GET /models lists, QUERY /models and GET /search find by words."""
    with server.client() as client:
        names = {m["name"] for m in client.get("/v1/models").json()["results"]}
        assert {"echo", "sleep"} <= names
        found = client.request(
            "QUERY", "/v1/models", content=b'"sleep"', headers={"Content-Type": "text/plain"}
        ).json()
        assert [m["name"] for m in found["results"]] == ["sleep"]
        result = client.get("/v1/search", params={"query": "echo"}).json()
        assert [m["model"]["name"] for m in result["models"]] == ["echo"]
        assert client.get("/v1/search").status_code == 400


def test_account_hardware_collections_and_webhook_secret(server: Server) -> None:
    """The small endpoints answer in Replicate's shapes."""
    with server.client() as client:
        assert client.get("/v1/account").json()["username"] == "local"
        assert client.get("/v1/hardware").json() == [{"sku": "cpu", "name": "CPU"}]
        assert [c["slug"] for c in client.get("/v1/collections").json()["results"]] == ["built-in"]
        key = client.get("/v1/webhooks/default/secret").json()["key"]
        assert key.startswith("whsec_") and key.count("_") == 1


def test_readme_404_and_empty_examples_for_a_model_without_them(server: Server) -> None:
    """A model with no README.md or example.json: a clear 404 and an empty example list."""
    with server.client() as client:
        readme = client.get("/v1/models/acme/echo/readme")
        assert readme.status_code == 404
        assert "has no README" in readme.json()["detail"]
        assert client.get("/v1/models/acme/echo/examples").json()["results"] == []
