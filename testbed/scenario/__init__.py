"""Scenarios: the file model, loader, validation and expectations; the engine that runs them."""
