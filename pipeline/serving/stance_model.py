"""The MLflow pyfunc of the exported stance model (MLflow "models from code": logged as this file).

It wraps a saved classifier folder (any kind of the model registry) and the target it was
trained for. Requests are validated row by row (pipeline.serving.contract); a bad request is an
MlflowException with INVALID_PARAMETER_VALUE, which `mlflow models serve` answers with a 400.
Classifiers that read labeling-function votes get them computed here from the target's config.
"""
from __future__ import annotations

import json
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from pipeline.errors import PipelineError
from pipeline.serving.contract import StancePrediction, StanceRequest, model_examples, parse_requests, predictions

CLASSIFIER_ARTIFACT = "classifier"
TARGET_ARTIFACT = "target"


class StancePyfunc(mlflow.pyfunc.PythonModel):
    """Table of quotes in, one `label` and `scores` per row out."""

    def load_context(self, context) -> None:
        from pipeline.config import LabelingConfig, TargetConfig
        from pipeline.models import load_model
        from pipeline.serving.contract import VoteSource

        self.classifier = load_model(context.artifacts[CLASSIFIER_ARTIFACT])
        described = json.loads(Path(context.artifacts[TARGET_ARTIFACT]).read_text(encoding="utf-8"))
        self.target = TargetConfig.model_validate(described["target"])
        self.vote_source = (VoteSource(self.target, LabelingConfig.model_validate(described["labeling"]),
                                       self.classifier.reads_votes_of)
                            if self.classifier.needs_votes else None)

    def predict(self, context, model_input: list[StanceRequest], params=None) -> list[StancePrediction]:
        try:
            requests = parse_requests(model_input)
        except PipelineError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None
        votes = self.vote_source.votes(requests) if self.vote_source else None
        return predictions(self.classifier.predict_proba(model_examples(requests, votes)))


mlflow.models.set_model(StancePyfunc())
