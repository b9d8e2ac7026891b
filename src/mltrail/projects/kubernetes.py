"""The kubernetes backend: a Job rendered from the user's template, submitted with the
Kubernetes Python client.

Backend config (JSON): ``kube-job-template-path`` (required), ``kube-context`` (optional),
``repository-uri`` (optional: the image becomes ``<repository-uri>:<git sha7>``; mltrail does
not build or push it). Without it the image is the project's ``docker_env`` image.

Rendering keeps everything in the template and sets, as MLflow does: ``metadata.name``
(``<project>-<timestamp>``), and in the first container ``name``, ``image``, ``command`` (the
entry point's command as one argv item per shell word) and the run's variables appended to
``env``. The rendered manifest is kept with the run as ``mltrail-project/job.yaml``, so a job
that could not be submitted can still be read and applied by hand.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shlex
import tempfile
import threading
import time
from typing import Any

import yaml

from mltrail.entities import Run
from mltrail.exceptions import MltrailException
from mltrail.projects.errors import ExecutionException, ProjectSpecError
from mltrail.projects.run_client import ProjectClient
from mltrail.projects.spec import ProjectSpec
from mltrail.projects.submitted import OUTPUT_ARTIFACT_DIR, SubmittedRun


def load_job_template(config: dict[str, Any]) -> dict[str, Any]:
    path = config.get("kube-job-template-path")
    if not path:
        raise ProjectSpecError(
            "The kubernetes backend config needs 'kube-job-template-path' (a Job YAML)."
        )
    if not os.path.isfile(path):
        raise ProjectSpecError(f"Kubernetes Job template {path} does not exist.")
    with open(path, encoding="utf-8") as fh:
        try:
            template = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise ProjectSpecError(
                f"Kubernetes Job template {path} is not valid YAML: {exc}"
            ) from None
    problems = _template_problems(template)
    if problems:
        raise ProjectSpecError(f"Kubernetes Job template {path}: {problems}.")
    return template  # type: ignore[no-any-return]


def _template_problems(template: Any) -> str:
    if not isinstance(template, dict) or template.get("kind") != "Job":
        return "it must be a mapping with kind: Job"
    if not (template.get("metadata") or {}).get("namespace"):
        return "metadata.namespace is missing"
    containers = (((template.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers"
    )
    if not isinstance(containers, list) or not containers or not isinstance(containers[0], dict):
        return "spec.template.spec.containers[0] is missing"
    return ""


def job_name(project_name: str, now: dt.datetime | None = None) -> str:
    """``<project>-<YYYY-MM-DD-HH-MM-SS-ffffff>``, lowercased to a valid Kubernetes name."""
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d-%H-%M-%S-%f")
    base = re.sub(r"[^a-z0-9-]+", "-", project_name.lower()).strip("-") or "mltrail-project"
    return f"{base[: 63 - len(stamp) - 1]}-{stamp}"


def render_job(
    template: dict[str, Any],
    project_name: str,
    image: str,
    command: str,
    env: dict[str, str],
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    job = copy.deepcopy(template)
    job["metadata"]["name"] = job_name(project_name, now)
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["name"] = re.sub(r"[^a-z0-9-]+", "-", project_name.lower()).strip("-")[:63]
    container["image"] = image
    container["command"] = shlex.split(command)
    container.setdefault("env", [])
    container["env"] = list(container["env"] or []) + [
        {"name": name, "value": value} for name, value in env.items()
    ]
    return job


def job_tracking_uri(client: ProjectClient) -> str:
    configured = os.environ.get("KUBE_MLFLOW_TRACKING_URI")
    if configured:
        return configured
    if client.tracking_uri.startswith(("http://", "https://")):
        return client.tracking_uri
    raise ExecutionException(
        f"The job cannot reach the tracking store {client.tracking_uri} from the cluster; "
        "track to a server (--tracking-uri/MLFLOW_TRACKING_URI=http://...) or set "
        "KUBE_MLFLOW_TRACKING_URI to the address the cluster can reach."
    )


def submit_kubernetes(
    client: ProjectClient,
    run: Run,
    spec: ProjectSpec,
    entry_point: str,
    command: str,
    config: dict[str, Any],
    synchronous: bool,
) -> SubmittedRun:
    rid = run.info.run_id
    try:
        if spec.env_type != "docker_env" or not spec.name:
            raise ProjectSpecError(
                "The kubernetes backend runs projects with a docker_env image and a 'name' in "
                "their MLproject file."
            )
        template = load_job_template(config)
        image = spec.env_value.image
        if config.get("repository-uri"):
            commit = run.data.tags.get("mlflow.source.git.commit")
            image = f"{config['repository-uri']}:{commit[:7] if commit else 'latest'}"
        env = {
            "MLFLOW_RUN_ID": rid,
            "MLFLOW_TRACKING_URI": job_tracking_uri(client),
            "MLFLOW_EXPERIMENT_ID": run.info.experiment_id,
        }
        job = render_job(template, spec.name, image, command, env)
        _keep_manifest(client, rid, job)
        client.set_tag(rid, "mlflow.docker.image.uri", image, synchronous=True)
        api = _batch_api(config.get("kube-context"))
        namespace = job["metadata"]["namespace"]
        try:
            api.create_namespaced_job(namespace=namespace, body=job)
        except Exception as exc:  # noqa: BLE001 - the client's errors are many; say which
            raise ExecutionException(
                f"Kubernetes refused the job {job['metadata']['name']}: {exc}"
            ) from None
    except MltrailException as exc:
        client.set_terminated(rid, "FAILED")
        raise ExecutionException(f"Run {rid} failed: {exc.message}") from None
    submitted = KubernetesSubmittedRun(rid, job["metadata"]["name"], namespace, api, client)
    if synchronous and not submitted.wait():
        raise ExecutionException(f"Run {rid} failed: the Kubernetes job did not complete.")
    return submitted


def _keep_manifest(client: ProjectClient, run_id: str, job: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "job.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(job, fh, sort_keys=False)
        client.log_artifact(run_id, path, OUTPUT_ARTIFACT_DIR)


def _batch_api(context: str | None) -> Any:
    try:
        from kubernetes import client as kube_client  # type: ignore[import-not-found]
        from kubernetes import config as kube_config
    except ImportError:
        raise ExecutionException(
            "The kubernetes backend needs the Kubernetes Python client: "
            "pip install kubernetes."
        ) from None
    try:
        kube_config.load_kube_config(context=context)
    except Exception:  # noqa: BLE001 - no kubeconfig: try in-cluster, then say neither
        try:
            kube_config.load_incluster_config()
        except Exception:  # noqa: BLE001
            raise ExecutionException(
                "No Kubernetes cluster is configured: no usable kubeconfig (KUBECONFIG or "
                "~/.kube/config" + (f", context {context!r}" if context else "")
                + ") and this is not a pod inside a cluster."
            ) from None
    return kube_client.BatchV1Api()


class KubernetesSubmittedRun(SubmittedRun):
    """Polls the Job every few seconds: Complete -> FINISHED, Failed -> FAILED;
    ``cancel()`` deletes the Job (KILLED)."""

    def __init__(self, run_id: str, name: str, namespace: str, api: Any,
                 client: ProjectClient) -> None:
        self._run_id = run_id
        self.job_name = name
        self.namespace = namespace
        self._api = api
        self._client = client
        self._status = "RUNNING"
        self._lock = threading.Lock()

    @property
    def run_id(self) -> str:
        return self._run_id

    def get_status(self) -> str:
        with self._lock:
            if self._status != "RUNNING":
                return self._status
            job = self._api.read_namespaced_job_status(self.job_name, self.namespace)
            for condition in (job.status.conditions or []) if job.status else []:
                if condition.status == "True" and condition.type in ("Complete", "Failed"):
                    self._status = "FINISHED" if condition.type == "Complete" else "FAILED"
                    self._client.set_terminated(self._run_id, self._status)
            return self._status

    def wait(self) -> bool:
        while self.get_status() == "RUNNING":
            time.sleep(5)
        return self._status == "FINISHED"

    def cancel(self) -> None:
        with self._lock:
            if self._status != "RUNNING":
                return
            self._api.delete_namespaced_job(self.job_name, self.namespace,
                                            propagation_policy="Background")
            self._status = "KILLED"
            self._client.set_terminated(self._run_id, "KILLED")
