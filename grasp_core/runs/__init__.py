"""The run registry: one folder per fine-tuning run, the queue of background jobs, and the worker process."""
