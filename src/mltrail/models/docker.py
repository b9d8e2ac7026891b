"""A Docker build context that serves a model: ``Dockerfile``, ``model_dir/<name>`` (a copy
of the model) and ``mltrail/`` (this mltrail, as a source tree or a wheel). The image runs
``mltrail models serve`` on port 8080. Nothing here goes through a shell on this machine;
``docker build`` gets an argument list."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mltrail.exceptions import InvalidParameter, MltrailException
from mltrail.version import __version__

MODEL_MOUNT = "/opt/ml/model"
PORT = 8080


def _copy_mltrail(context: Path) -> str:
    """Put this mltrail into the context; the pip argument that installs it in the image."""
    from mltrail.environments.self_install import _distribution, _repack_wheel, _source_tree

    target = context / "mltrail"
    root = _source_tree()
    if root is not None:
        target.mkdir()
        shutil.copytree(
            root / "src", target / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (root / name).is_file():
                shutil.copy2(root / name, target / name)
        return "/opt/mltrail/mltrail"
    dist = _distribution()
    if dist is None:
        raise MltrailException("Cannot find this mltrail's installation to put in the image.")
    target.mkdir()
    wheel = _repack_wheel(dist, Path(tempfile.mkdtemp(prefix="mltrail-wheel-")))
    shutil.copy2(wheel, target / wheel.name)
    return f"/opt/mltrail/mltrail/{wheel.name}"


def _model_facts(model_dir: str) -> tuple[str, bool]:
    """(python version, needs java) of a model directory."""
    from mltrail.models.model import Model

    model = Model.load(model_dir)
    pyfunc = model.flavors.get("python_function")
    if pyfunc is None:
        raise InvalidParameter(
            "This model has no python_function flavor, so it cannot be served from a container."
        )
    version = str(pyfunc.get("python_version") or "3.11")
    return version, "spark" in model.flavors


def _dockerfile(base: str, mltrail_arg: str, model_name: str | None, java: bool) -> str:
    lines = [
        f"# Serves a model with mltrail {__version__}: docker run -p 5001:{PORT} <image>",
        f"FROM {base}",
        "ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
    ]
    if java:
        lines += [
            "RUN apt-get update && apt-get install -y --no-install-recommends "
            "openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*",
        ]
    lines += [
        "WORKDIR /opt/mltrail",
        "COPY mltrail /opt/mltrail/mltrail",
        f"RUN pip install '{mltrail_arg}'",
    ]
    if model_name is not None:
        lines += [
            f"COPY model_dir/{model_name} {MODEL_MOUNT}",
            f"RUN if [ -s {MODEL_MOUNT}/requirements.txt ]; then "
            f"pip install -r {MODEL_MOUNT}/requirements.txt; fi",
        ]
    lines += [
        f"EXPOSE {PORT}",
        # Requests reach the container under names this image cannot know (service names);
        # narrow this with -e MLTRAIL_SCORING_ALLOWED_HOSTS=... when serving browsers.
        "ENV MLTRAIL_SCORING_ALLOWED_HOSTS=*",
        'ENTRYPOINT ["mltrail", "models", "serve", "--model-uri", '
        f'"{MODEL_MOUNT}", "--host", "0.0.0.0", "--port", "{PORT}", '
        '"--env-manager", "local"]',
    ]
    return "\n".join(lines) + "\n"


def generate_dockerfile(
    model_uri: str | None,
    output_directory: str = "mltrail-dockerfile",
    install_java: bool | None = None,
    base_image: str | None = None,
) -> str:
    """Write the build context into ``output_directory``; the Dockerfile's path."""
    from mltrail.models.uri import download_model

    out = Path(output_directory)
    if out.exists() and any(out.iterdir()):
        raise InvalidParameter(f"Output directory {str(out)!r} exists and is not empty.")
    out.mkdir(parents=True, exist_ok=True)
    python, java = "3.11", False
    model_name = None
    if model_uri:
        local = download_model(model_uri)
        python, java = _model_facts(local)
        model_name = os.path.basename(os.path.normpath(local)) or "model"
        shutil.copytree(local, out / "model_dir" / model_name)
    if install_java is not None:
        java = install_java
    short = ".".join(python.split(".")[:2])
    base = base_image or f"python:{short}-slim"
    mltrail_arg = _copy_mltrail(out)
    dockerfile = out / "Dockerfile"
    dockerfile.write_text(_dockerfile(base, mltrail_arg, model_name, java), encoding="utf-8")
    return str(dockerfile)


def _docker_client() -> str:
    docker = shutil.which("docker")
    if docker is None:
        raise MltrailException(
            "Cannot build the image: the docker command is not installed here. Run "
            "`mltrail models generate-dockerfile` and build the folder where Docker runs.",
            error_code="RESOURCE_DOES_NOT_EXIST",
        )
    try:
        done = subprocess.run(
            [docker, "info"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MltrailException(f"Cannot build the image: docker info failed ({exc}).") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise MltrailException(
            "Cannot build the image: no Docker engine answers"
            f" ({detail[-1] if detail else 'docker info failed'}). Start Docker, or run "
            "`mltrail models generate-dockerfile` and build elsewhere.",
            error_code="TEMPORARILY_UNAVAILABLE",
        )
    return docker


def build_docker(
    model_uri: str | None,
    name: str = "mltrail-pyfunc",
    install_java: bool | None = None,
    base_image: str | None = None,
) -> None:
    """Build an image named ``name`` that serves the model."""
    docker = _docker_client()
    with tempfile.TemporaryDirectory(prefix="mltrail-docker-") as tmp:
        context = os.path.join(tmp, "context")
        generate_dockerfile(model_uri, context, install_java=install_java, base_image=base_image)
        done = subprocess.run([docker, "build", "-t", name, context], check=False)
    if done.returncode != 0:
        raise MltrailException(f"docker build failed (exit code {done.returncode}).")
