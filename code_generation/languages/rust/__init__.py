"""Rust: the plug-in (plugin.py), its cargo sandbox, prompts, extraction, feedback and fixes."""
