"""Seed 004 (MLflow Tracking tutorial), sklearn part, on a generated penguin-like table: a
LogisticRegression with metrics, two plots and the model; then sklearn.autolog around a
GridSearchCV (one parent run, a child run per alpha)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import RocCurveDisplay, confusion_matrix, roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import LabelEncoder, StandardScaler

import mltrail as mlflow
import mltrail.sklearn

rng = np.random.default_rng(0)
n = 120
penguins = pd.DataFrame(
    {
        "species": rng.choice(["Adelie", "Gentoo", "Chinstrap"], n),
        "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
        "bill_length_mm": rng.normal(44, 5, n),
        "bill_depth_mm": rng.normal(17, 2, n),
        "flipper_length_mm": rng.normal(200, 14, n),
        "body_mass_g": rng.normal(4200, 800, n),
        "sex": rng.choice(["male", "female"], n),
    }
)
le = LabelEncoder()
penguins["species_encoded"] = le.fit_transform(penguins["species"])
penguins["island_encoded"] = le.fit_transform(penguins["island"])
penguins["sex_encoded"] = le.fit_transform(penguins["sex"])
penguins.loc[penguins.sex_encoded == 1, "body_mass_g"] += 900

features = [
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "island_encoded",
    "species_encoded",
]
X = penguins[features]
y = penguins["sex_encoded"]
x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
sc = StandardScaler()
scaled_x_train = sc.fit_transform(x_train)
scaled_x_test = sc.transform(x_test)


def train(model, x_train, y_train):
    model = model.fit(x_train, y_train)
    train_acc = model.score(x_train, y_train)
    mlflow.log_metric("train_acc", train_acc)


def evaluate(model, x_test, y_test):
    eval_acc = model.score(x_test, y_test)
    preds = model.predict(x_test)
    auc_score = roc_auc_score(y_test, preds, multi_class="ovr")
    mlflow.log_metric("eval_acc", eval_acc)
    mlflow.log_metric("auc_score", auc_score)
    RocCurveDisplay.from_estimator(model, x_test, y_test, name="ROC Curve")
    plt.savefig("roc_plot.png")
    plt.clf()
    conf_matrix = confusion_matrix(y_test, preds)
    plt.imshow(conf_matrix)
    plt.title("Confusion Matrix")
    plt.savefig("conf_matrix.png")
    mlflow.log_artifact("roc_plot.png")
    mlflow.log_artifact("conf_matrix.png")


model = LogisticRegression()
mlflow.set_experiment("/Users/your_id/penguin_logistic_regression")
with mlflow.start_run():
    train(model, scaled_x_train, y_train)
    evaluate(model, scaled_x_test, y_test)
    mlflow.sklearn.log_model(model, "logistic_regression")
    print("LOGREG_RUN", mlflow.active_run().info.run_uuid)
mlflow.end_run()

# Grid search with autolog: one parent run, one child per alpha.
mlflow.sklearn.autolog()
parameters = {"alpha": [0.05, 0.1, 0.5, 1, 2, 5]}
ridge_reg = GridSearchCV(Ridge(), parameters, scoring="neg_mean_squared_error", cv=5)
mlflow.set_experiment("/Users/your_id/penguin_ridge_regression")
with mlflow.start_run() as run:
    ridge_reg.fit(X, y)
    print("RIDGE_RUN", run.info.run_id)
mlflow.end_run()
mlflow.sklearn.autolog(disable=True)
penguins.to_csv("penguins.csv", index=False)
