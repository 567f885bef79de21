"""`foretell push` to a running server: a model directory becomes a version that runs, a
broken one never becomes the latest, and bad archives or someone else's model are refused."""

from __future__ import annotations

import io
import os
import pathlib
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator

import httpx
import pytest

from foretell.packaging import pack_directory
from tests.server import Server, fixture_model, official_client, start_server

PUSH_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("push")
    server = start_server(tmp / "data", [str(fixture_model(tmp, "echo"))], "--max-push-mb", "1")
    yield server
    server.stop()


def _push(server: Server, directory: pathlib.Path, model: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORETELL_BASE_URL": server.url, "REPLICATE_API_TOKEN": server.token}
    return subprocess.run(
        [sys.executable, "-m", "foretell", "push", str(directory), model],
        capture_output=True, text=True, env=env, timeout=PUSH_TIMEOUT_S,
    )  # fmt: skip


def _model_dir(tmp: pathlib.Path, name: str, predict: str) -> pathlib.Path:
    directory = tmp / name
    directory.mkdir(parents=True)
    (directory / "cog.yaml").write_text('predict: "predict.py:Predictor"\n')
    (directory / "predict.py").write_text(predict)
    (directory / "notes.tmp").write_text("left out")
    (directory / ".dockerignore").write_text("*.tmp\n")
    return directory


SHOUT = """\
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(description="What to shout")) -> str:
        return text.upper() + "!"
"""


def test_push_creates_the_model_and_a_version_that_runs(
    server: Server, tmp_path: pathlib.Path
) -> None:
    """The model is created (private), the version builds, prints its ref on stdout, and
    runs through the official client by model name and by version id."""
    result = _push(server, _model_dir(tmp_path, "shout", SHOUT), "local/shout")
    assert result.returncode == 0, result.stderr
    ref = result.stdout.strip().splitlines()[-1]
    assert ref.startswith("local/shout:")
    assert "Created the model local/shout (private)" in result.stderr
    version = ref.split(":", 1)[1]
    with official_client(server) as replicate:
        assert replicate.run("local/shout", input={"text": "hi"}) == "HI!"
        assert replicate.run(ref, input={"text": "yo"}) == "YO!"
        model = replicate.models.get("local/shout")
        assert model.latest_version is not None and model.latest_version.id == version
    # the same directory again is the same version (a content-derived id)
    again = _push(server, _model_dir(tmp_path / "again", "shout", SHOUT), "local/shout")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == ref


def test_a_broken_model_is_reported_and_never_the_latest(
    server: Server, tmp_path: pathlib.Path
) -> None:
    good = _push(server, _model_dir(tmp_path, "good", SHOUT), "local/flaky")
    assert good.returncode == 0, good.stderr
    broken = _model_dir(tmp_path, "broken", "import nonexistent_module_xyz\n")
    result = _push(server, broken, "local/flaky")
    assert result.returncode == 1
    assert "nonexistent_module_xyz" in result.stderr
    with server.client() as http:
        latest = http.get("/v1/models/local/flaky").json()["latest_version"]
    assert latest["id"] == good.stdout.strip().rsplit(":", 1)[1]


def _tarball(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _post(http: httpx.Client, model: str, body: bytes) -> httpx.Response:
    return http.post(
        f"/v1/models/{model}/versions", content=body, headers={"Content-Type": "application/gzip"}
    )


def test_bad_archives_are_refused_and_change_nothing(
    server: Server, tmp_path: pathlib.Path
) -> None:
    with server.client() as http:
        created = http.post(
            "/v1/models",
            json={"owner": "local", "name": "target", "visibility": "private", "hardware": "cpu"},
        )
        assert created.status_code == 201, created.text
        escape = _tarball((tarfile.TarInfo("../../evil.py"), b"x"))
        response = _post(http, "local/target", escape)
        assert response.status_code == 422
        assert "leaves the model's directory" in response.text
        no_model = _tarball((tarfile.TarInfo("README.md"), b"# hi"))
        assert "no cog.yaml" in _post(http, "local/target", no_model).text
        assert _post(http, "local/target", b"not a tarball").status_code == 400
        big = pack_directory(_big_model(tmp_path))
        assert _post(http, "local/target", big).status_code == 413
        assert _post(http, "local/missing", no_model).status_code == 404
        assert http.get("/v1/models/local/target").json()["latest_version"] is None


def _big_model(tmp: pathlib.Path) -> pathlib.Path:
    directory = _model_dir(tmp, "big", SHOUT)
    (directory / "weights.bin").write_bytes(os.urandom(2 * 2**20))  # past --max-push-mb 1
    return directory


def test_only_the_owner_pushes(server: Server, tmp_path: pathlib.Path) -> None:
    other = _other_token(server)
    with server.client(other) as http:
        created = http.post(
            "/v1/models",
            json={"owner": "acme", "name": "theirs", "visibility": "public", "hardware": "cpu"},
        )
        assert created.status_code == 201, created.text
    archive = pack_directory(_model_dir(tmp_path, "mine", SHOUT))
    with server.client() as http:
        response = _post(http, "acme/theirs", archive)
    assert response.status_code == 403
    assert "belongs to another account" in response.text


def _pages_show(http: httpx.Client, model: str) -> bool:
    """Whether the pages anyone may read (the index, llms.txt, the model's page) show it."""
    index = http.get("/", headers={"accept": "text/markdown"}).text
    guide = http.get("/llms.txt").text
    page = http.get(f"/{model}", headers={"accept": "text/html"}).status_code
    shown = (model in index, model in guide, page == 200)
    assert len(set(shown)) == 1, shown  # all of them or none
    return shown[0]


def test_the_pages_show_a_private_model_to_no_one(server: Server, tmp_path: pathlib.Path) -> None:
    """The playground and llms.txt are for anyone: a pushed private model is not on them
    (its owner still runs it through the API) until it is made public."""
    result = _push(server, _model_dir(tmp_path, "quiet", SHOUT), "local/quiet")
    assert result.returncode == 0, result.stderr
    with httpx.Client(base_url=server.url, timeout=10) as anyone:
        assert not _pages_show(anyone, "local/quiet")
        assert _pages_show(anyone, "local/echo")  # a command-line model is on them
        with server.client() as owner:
            made = owner.patch("/v1/models/local/quiet", json={"visibility": "public"})
            assert made.status_code == 200, made.text
        deadline = time.monotonic() + 30  # the catalog is nudged; its tick is 1 s
        while not _pages_show(anyone, "local/quiet"):
            assert time.monotonic() < deadline, "made public, still not on the pages"
            time.sleep(0.1)


def _other_token(server: Server) -> str:
    result = subprocess.run(
        [
            sys.executable, "-m", "foretell", "tokens", "create",
            "--data-dir", str(server.data_dir), "--account", "acme",
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.split()[-1]


def test_an_older_version_still_runs_by_its_ref(server: Server, tmp_path: pathlib.Path) -> None:
    """A second push becomes the latest; the first still runs when named."""
    first = _push(server, _model_dir(tmp_path, "v1", SHOUT), "local/twice")
    assert first.returncode == 0, first.stderr
    whisper = SHOUT.replace('text.upper() + "!"', 'text.lower() + "..."')
    second = _push(server, _model_dir(tmp_path, "v2", whisper), "local/twice")
    assert second.returncode == 0, second.stderr
    old_ref, new_ref = (r.stdout.strip().splitlines()[-1] for r in (first, second))
    assert old_ref != new_ref
    with official_client(server) as replicate:
        assert replicate.run("local/twice", input={"text": "Hi"}) == "hi..."
        assert replicate.run(old_ref, input={"text": "Hi"}) == "HI!"
        versions = replicate.models.get("local/twice").versions.list()
        assert [v.id for v in versions.results] == [new_ref.split(":")[1], old_ref.split(":")[1]]
