"""One module per intake channel: its input model, its normalisation and its routes."""
