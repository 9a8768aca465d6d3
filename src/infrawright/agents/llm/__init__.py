"""The LLM planner (``implement --planner llm``): a model proposes through the shared
tools, the engine disposes. The provider SDKs are optional: ``pip install 'infrawright[llm]'``.
"""

from __future__ import annotations

from infrawright.agents.llm.agent import run_agent
from infrawright.agents.llm.providers import API_KEY_VARS, DEFAULT_MODELS, PROVIDERS

__all__ = ["API_KEY_VARS", "DEFAULT_MODELS", "PROVIDERS", "run_agent"]
