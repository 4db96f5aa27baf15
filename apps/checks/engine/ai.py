"""AI probe suite (placeholder while it is being built)."""
