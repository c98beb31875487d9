"""The `llmpipe` command line: a thin layer that parses flags, calls the API and renders."""
