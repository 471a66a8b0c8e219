"""Item pipelines: validate, download files, store."""
