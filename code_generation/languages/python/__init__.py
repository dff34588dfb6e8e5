"""Python: the plug-in (plugin.py), its prompts, extraction, feedback, tests and static checks."""
