"""Evidence for candidate factors: ablate each from the adapted model, measure the adapter's shift along it, rank."""
