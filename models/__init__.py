"""Scoring models (`bantay.models`): the training set from point-in-time features and decided labels, the
XGBoost recipe and fit, MLflow tracking and the registry's champion/challenger gate, the rules baseline, and
daily scoring with per-customer reasons."""
