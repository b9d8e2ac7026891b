"""Seed 004, the Pyspark part: a Spark ML LogisticRegression logged with mlflow.spark, and
DBSCAN per island in applyInPandas, each worker resuming the parent run by id and logging
nested runs (the tracking URI reaches the Python workers through the environment)."""

import pandas as pd
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from sklearn.cluster import DBSCAN
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

import mltrail as mlflow
import mltrail.sklearn
import mltrail.spark

spark = (
    SparkSession.builder.master("local[1]")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()
)
penguins = pd.read_csv("penguins.csv")
penguins_sdf = spark.createDataFrame(penguins)
features = [
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "island_encoded",
    "sex_encoded",
]
va = VectorAssembler(inputCols=features, outputCol="features")
data = penguins_sdf.select(F.col("species_encoded").alias("label"), *features)
trainData, testData = data.randomSplit([0.8, 0.2], seed=0)
trainData = va.transform(trainData)
testData = va.transform(testData)


def train(model, train_data):
    model = model.fit(train_data)
    mlflow.log_metric("train_acc", model.summary.accuracy)
    return model


def evaluate(model, test_data):
    mlflow.log_metric("eval_acc", model.evaluate(test_data).accuracy)


lr = LogisticRegression(featuresCol="features", labelCol="label", maxIter=10)
mlflow.set_experiment("/Users/your_id/penguin_logistic_regression_pyspark")
with mlflow.start_run() as r:
    lr = train(lr, trainData)
    evaluate(lr, testData)
    mlflow.spark.log_model(lr, "logistic_regression_pyspark")
    print("SPARK_RUN", r.info.run_id)
reloaded = mlflow.spark.load_model(f"runs:/{r.info.run_id}/logistic_regression_pyspark")
print("SPARK_RELOADED", reloaded.transform(testData).select("prediction").count())
mlflow.end_run()

eps_list = [0.5, 1.5]
return_schema = T.StructType(
    [
        T.StructField("island", T.StringType()),
        T.StructField("eps", T.FloatType()),
        T.StructField("silhouette", T.FloatType()),
        T.StructField("n_clusters", T.IntegerType()),
        T.StructField("model_path", T.StringType()),
    ]
)


def clustering(pdf):
    island = pdf["island"].iloc[0]
    run_id = pdf["run_id"].iloc[0]
    X = pdf[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]].values
    X_scaled = StandardScaler().fit_transform(X)
    rows = []
    for eps_val in eps_list:
        with mlflow.start_run(run_id=run_id):  # noqa: SIM117 (as the seed writes it)
            with mlflow.start_run(run_name=str(island) + "-eps" + str(eps_val), nested=True) as run:
                mlflow.log_param("eps", eps_val)
                model = DBSCAN(eps=eps_val, min_samples=3).fit(X_scaled)
                labels = model.labels_
                num_labels = len(set(labels[labels >= 0]))
                slh = (
                    silhouette_score(X_scaled[labels >= 0], labels[labels >= 0])
                    if num_labels >= 2
                    else -1
                )
                mlflow.sklearn.log_model(model, str(island) + "-" + str(eps_val))
                mlflow.log_metric("silhouette", slh)
                mlflow.log_metric("n_clusters", num_labels)
                rows.append(
                    (
                        island,
                        eps_val,
                        float(slh),
                        num_labels,
                        f"runs:/{run.info.run_id}/{island}-{eps_val}",
                    )
                )
    return pd.DataFrame(rows, columns=["island", "eps", "silhouette", "n_clusters", "model_path"])


with mlflow.start_run(run_name="섬 별 클러스터링") as run:
    run_id = run.info.run_uuid
    modelDF = (
        penguins_sdf.withColumn("run_id", F.lit(run_id))
        .groupby("island")
        .applyInPandas(clustering, schema=return_schema)
    )
    out = modelDF.toPandas()
    print("PARENT_RUN", run_id)
    print(out.to_string())
spark.stop()
