"""The model side: base models, LoRA adapter folders, chat data, residual-stream interventions, uploads."""
