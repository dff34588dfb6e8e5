"""Reference solution for examples/cloud_build, written from prompt.txt."""

from collections.abc import Iterable
from typing import Any


def build_step(name: str, args: Iterable[str], step_id: str | None = None) -> dict[str, Any]:
    """One Cloud Build step; "id" only when step_id is given."""
    step: dict[str, Any] = {"name": name, "args": list(args)}
    if step_id is not None:
        step["id"] = step_id
    return step


def docker_build_config(project_id: str, image_name: str, context: str = ".") -> dict[str, Any]:
    """A Cloud Build config that builds a Dockerfile and pushes the image."""
    image = f"gcr.io/{project_id}/{image_name}"
    return {
        "steps": [build_step("gcr.io/cloud-builders/docker", ["build", "-t", image, context])],
        "images": [image],
    }
