"""For course authors: the notebooks' text sources, lint, simulated learners and the self-check."""
