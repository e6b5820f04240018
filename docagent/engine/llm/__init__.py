"""Talking to GLM-5 (or any OpenAI-compatible model) through the official `openai` SDK."""
