__version__ = "0.1.0"

# The MLflow version whose REST API and behaviour this release follows. The server answers it
# at /version, because the `mlflow` client turns features on or off by the server's version;
# mltrail's own version is in /api/3.0/mlflow/server-info and the X-Mltrail-Version header.
MLFLOW_API_VERSION = "3.18.0"
