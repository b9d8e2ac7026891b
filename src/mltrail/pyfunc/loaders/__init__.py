"""Loaders named by ``MLmodel`` files under MLflow's ``mlflow.pyfunc.loaders`` package."""
