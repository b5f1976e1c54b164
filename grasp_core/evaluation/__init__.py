"""Measure a model: statistics, log-probability evals (forced choice, task NLL), free-form judged evals, suites
of them with optional ablation, and the bundled organisms."""
