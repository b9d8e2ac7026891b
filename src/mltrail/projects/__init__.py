"""MLflow Projects for mltrail: run an ``MLproject`` folder or git repository as a tracked run.

``mltrail.projects.run(uri, entry_point="main", parameters={...})`` (or ``mltrail run URI``)
fetches the code, checks the parameters, builds the environment (uv for ``python_env``,
conda, docker) and runs the entry point's command with the run's id and tracking URI, so that
the code's ``start_run()`` logs into the run whether it imports mltrail or mlflow.
"""

from mltrail.projects.errors import ExecutionException, ProjectSpecError, UntrustedSource
from mltrail.projects.runner import run
from mltrail.projects.spec import EntryPoint, Parameter, ProjectSpec, load_project
from mltrail.projects.submitted import LocalSubmittedRun, SubmittedRun

__all__ = [
    "EntryPoint",
    "ExecutionException",
    "LocalSubmittedRun",
    "Parameter",
    "ProjectSpec",
    "ProjectSpecError",
    "SubmittedRun",
    "UntrustedSource",
    "load_project",
    "run",
]
