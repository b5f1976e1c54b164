"""What trained models say, side by side: the base, adapters and finished runs (each at an amplification scale),
their replies to the same prompts, and where two of them differ token by token."""
