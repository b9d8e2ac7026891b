"""Python models that scoring-server tests ship with ``code_paths`` (the server process
imports this file from the model's ``code/`` folder)."""

from __future__ import annotations

import time

import mltrail


class SlowParamModel(mltrail.pyfunc.PythonModel):
    """Scales column x by the ``scale`` param after sleeping ``sleep`` seconds."""

    def predict(self, context, model_input, params=None):
        time.sleep(params["sleep"])
        return model_input["x"] * params["scale"]
