"""I/O side of the pipeline: fetching, storage, state and the CLI."""

__version__ = "0.1.0"
