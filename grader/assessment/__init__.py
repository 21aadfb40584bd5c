"""Proficiency: the rubric, levels and verdicts from exercise outcomes, and how well each exercise measures."""
