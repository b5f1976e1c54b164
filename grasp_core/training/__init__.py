"""Step 2: fine-tune again. The config, the method registry, the loop and its parts (batching, checkpoints,
data parallelism), GRASP's rounds, and the `train()` entry above them."""
