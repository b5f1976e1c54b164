"""Step 1: find candidate factors in a LoRA adapter (spectra, global and module factors), pick and save them,
and read what they do (top-activating prompts, logit lens, steering previews)."""
