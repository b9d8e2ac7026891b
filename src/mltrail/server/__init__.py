"""The tracking server: MLflow-compatible REST API, artifact proxy and web UI."""
