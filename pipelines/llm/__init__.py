"""The reference LLM pipeline: prepare -> train -> checkpoint -> evaluate.

Every stage is a module run as `python -m pipelines.llm.<stage>` from the
repository root; each reads its section of `params.yaml`, validates it before
doing any long work, and exits with one clear line on stderr on bad input.
"""
