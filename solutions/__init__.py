"""Reference solutions: same modules and names as ``exercises/``. Never shipped to students."""
