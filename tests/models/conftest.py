"""Small trained models shared by the model tests (fitted once per session)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


@pytest.fixture(scope="session")
def iris():
    from sklearn.datasets import load_iris

    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, target


@pytest.fixture(scope="session")
def iris_model(iris):
    from sklearn.linear_model import LogisticRegression

    features, target = iris
    return LogisticRegression(max_iter=500).fit(features, target)
