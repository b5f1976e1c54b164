"""The run registry: one folder per fine-tuning run, the queue of background runs, and the worker process."""
