"""Stage code of the reference pipelines; each folder is one pipeline."""
