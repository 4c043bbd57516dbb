"""The exported stance model: its request/response contract and the MLflow pyfunc around a saved classifier."""
