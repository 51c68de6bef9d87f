"""Question bank, papers, the exam page, autosave, grading and item statistics."""
