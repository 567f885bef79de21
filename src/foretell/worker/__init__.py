"""The model worker: runs inside the model's environment, one process per model instance."""
