"""Files on the local disk: uploads by id, outputs by prediction."""

from __future__ import annotations

import hashlib
import pathlib
import shutil
import uuid

from foretell.core.ids import file_id


class LocalFiles:
    """Keeps uploads under `root/uploads/<id>/` and outputs under `root/outputs/<prediction>/`."""

    def __init__(self, root: pathlib.Path) -> None:
        # absolute once, here: these paths are handed to workers whose cwd is their model's
        self.root = root.resolve()
        (root / "uploads").mkdir(parents=True, exist_ok=True)
        (root / "outputs").mkdir(parents=True, exist_ok=True)

    def save_upload(self, name: str, data: bytes) -> tuple[str, pathlib.Path, str, str]:
        """Store uploaded bytes: (id, path, md5 hex, sha256 hex)."""
        new_id = file_id()
        folder = self.root / "uploads" / new_id
        folder.mkdir()
        path = folder / (pathlib.Path(name).name or "file")
        try:
            path.write_bytes(data)
        except BaseException:  # disk full, a name the file system refuses: leave nothing
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return new_id, path, hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # noqa: S324 — md5 is the etag format clients expect

    def delete_upload(self, upload_id: str) -> None:
        """Remove an upload's bytes."""
        shutil.rmtree(self.root / "uploads" / upload_id, ignore_errors=True)

    def delete_outputs(self, prediction_id: str) -> None:
        """Remove every kept output file of a prediction."""
        shutil.rmtree(self.root / "outputs" / prediction_id, ignore_errors=True)

    def keep_output(self, prediction_id: str, source: pathlib.Path) -> str:
        """Move a worker's output file into storage; returns its unguessable relative key."""
        key = f"outputs/{prediction_id}/{uuid.uuid4().hex}/{source.name}"
        target = self.root / key
        target.parent.mkdir(parents=True)
        shutil.move(source, target)
        return key

    def path_of(self, key: str) -> pathlib.Path | None:
        """The file for a stored key, or None if it's missing or outside storage."""
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents or not path.is_file():
            return None
        return path

    def output_dir(self, prediction_id: str) -> pathlib.Path:
        """Where the worker writes a prediction's raw outputs before they're kept; not made
        here (the worker makes it when the model returns a file: most predictions don't)."""
        return self.root / "incoming" / prediction_id
