"""pytest collects only the generated notebooks here (nbval), never their text sources."""

# NN_stage.pct.py is a notebook's text source (grader/authoring/notebook_text.py): importing it would run the notebook.
collect_ignore_glob = ["*/*.pct.py"]
