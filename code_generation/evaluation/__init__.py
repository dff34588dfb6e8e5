"""The evaluation harness: task sources, strategies, the run over them, and its report."""
