"""TF-IDF models: word 1-2 and character 2-5 n-grams into logistic regression or a linear SVM.

Character n-grams catch stems and inflections ("oppose", "opposed", "opposition") that
word n-grams miss on a few hundred quotes. The SVM has no probabilities of its own, so it
is calibrated with cross-validation (CalibratedClassifierCV).
"""
from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import AfterValidator, Field

from pipeline.models.base import ModelParams, StanceModel, full_proba, load_sklearn, require_two_labels, save_sklearn

PIPELINE_FILE = "pipeline.skops"


def ordered_range(value: list[int]) -> list[int]:
    if value[0] > value[1]:
        raise ValueError("the first n-gram length must not exceed the second")
    return value


NgramRange = Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2, max_length=2),
                       AfterValidator(ordered_range)]


class TfidfParams(ModelParams):
    """The n-gram features shared by both TF-IDF models."""

    word_ngrams: NgramRange = [1, 2]
    char_ngrams: NgramRange = [2, 5]
    min_df: int = Field(1, ge=1)
    max_features: int | None = Field(None, ge=1)
    sublinear_tf: bool = True
    class_weight: Literal["balanced"] | None = "balanced"


class TfidfLogregParams(TfidfParams):
    C: float = Field(1.0, gt=0)
    max_iter: int = Field(1000, ge=1)


class TfidfSvmParams(TfidfParams):
    C: float = Field(0.5, gt=0)
    max_iter: int = Field(5000, ge=1)
    calibration: Literal["sigmoid", "isotonic"] = "sigmoid"
    calibration_folds: int = Field(3, ge=2)


def ngram_vectorizers(params: TfidfParams) -> Any:
    """Unfitted word and character TF-IDF vectorizers side by side (a FeatureUnion)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    shared = {"min_df": params.min_df, "max_features": params.max_features,
              "sublinear_tf": params.sublinear_tf, "lowercase": True, "dtype": np.float64}
    return FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(params.word_ngrams), **shared)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(params.char_ngrams), **shared)),
    ])


def transform_ngrams(union: Any, texts: list[str]) -> Any:
    """`union.transform(texts)` without FeatureUnion's per-call joblib pool (half the time of one served quote)."""
    import scipy.sparse

    return scipy.sparse.hstack([vectorizer.transform(texts) for _, vectorizer in union.transformer_list],
                               format="csr")


class TfidfModel(StanceModel):
    """A fitted scikit-learn Pipeline (features, classifier) saved as one skops file."""

    libraries = ("numpy", "scikit-learn", "skops")
    trusted_types: ClassVar[tuple[str, ...]] = ()

    def features(self) -> Any:
        return ngram_vectorizers(self.params)

    @abstractmethod
    def fit_classifier(self, features: Any, labels: np.ndarray, weights: np.ndarray | None) -> Any:
        """Fit the classifier on the feature matrix; it must have `predict_proba` and `classes_`."""

    def _fit(self, examples: list[Mapping[str, Any]], labels: np.ndarray, weights: np.ndarray | None) -> None:
        from sklearn.pipeline import Pipeline

        require_two_labels(labels, self.kind)
        features = self.features()
        matrix = features.fit_transform(self.texts(examples))
        classifier = self.fit_classifier(matrix, labels, weights)
        self.pipeline = Pipeline([("features", features), ("classifier", classifier)])

    def _predict_proba(self, examples: list[Mapping[str, Any]]) -> np.ndarray:
        """The fitted pipeline's probabilities, computed step by step.

        Same numbers as `pipeline.predict_proba`, without its per-call overhead (a joblib pool for
        the FeatureUnion, input re-validation): on one served quote that overhead was half the time.
        """
        import sklearn

        union, classifier = self.pipeline.named_steps["features"], self.pipeline.named_steps["classifier"]
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            proba = classifier.predict_proba(transform_ngrams(union, self.texts(examples)))
        return full_proba(proba, classifier.classes_)

    def _save_artifacts(self, directory: Path) -> None:
        save_sklearn(self.pipeline, directory / PIPELINE_FILE)

    def _load_artifacts(self, directory: Path) -> None:
        self.pipeline = load_sklearn(directory / PIPELINE_FILE, self.trusted_types)


class TfidfLogregModel(TfidfModel):
    """TF-IDF n-grams into multinomial logistic regression."""

    kind = "tfidf_logreg"
    Params = TfidfLogregParams

    def fit_classifier(self, features: Any, labels: np.ndarray, weights: np.ndarray | None) -> Any:
        from sklearn.linear_model import LogisticRegression

        classifier = LogisticRegression(C=self.params.C, max_iter=self.params.max_iter,
                                        class_weight=self.params.class_weight, random_state=self.seed)
        return classifier.fit(features, labels, sample_weight=weights)


class TfidfSvmModel(TfidfModel):
    """TF-IDF n-grams into a linear SVM whose scores are calibrated into probabilities."""

    kind = "tfidf_svm"
    # class_weight is a real choice where the metric leaves a class out (SemEval's F_avg ignores NONE, so balancing
    # trades the scored majority class's recall for the unscored class); C is the linear head's capacity knob.
    tuning_grid = {"class_weight": ["balanced", None], "C": [0.5, 1.0, 0.25]}
    Params = TfidfSvmParams
    trusted_types = ("sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
                     "sklearn.frozen._frozen.FrozenEstimator", "sklearn.model_selection._split.StratifiedKFold")

    def fit_classifier(self, features: Any, labels: np.ndarray, weights: np.ndarray | None) -> Any:
        """Cross-validated calibration with as many folds as the rarest label allows.

        A label seen only once leaves nothing to cross-validate; then the SVM fitted on all
        examples is calibrated on its own training scores (overconfident, but it does not crash
        on a dozen examples, and it only happens when a label is that rare).
        """
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.model_selection import StratifiedKFold
        from sklearn.svm import LinearSVC

        svm = LinearSVC(C=self.params.C, max_iter=self.params.max_iter,
                        class_weight=self.params.class_weight, random_state=self.seed)
        folds = min(self.params.calibration_folds, int(np.bincount(labels)[np.unique(labels)].min()))
        if folds >= 2:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)
            calibrated = CalibratedClassifierCV(svm, method=self.params.calibration, cv=splitter)
        else:
            svm.fit(features, labels, sample_weight=weights)
            calibrated = CalibratedClassifierCV(FrozenEstimator(svm), method=self.params.calibration)
        with warnings.catch_warnings():
            # A frozen SVM is not refitted per fold, so sklearn's "class smaller than n_splits" is moot.
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
            return calibrated.fit(features, labels, sample_weight=weights)
