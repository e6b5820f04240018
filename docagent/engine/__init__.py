"""The document engine: the plan language, data, planners, the model client and binding.

It never imports `docagent.service` (an import-linter contract): a plan renders without a job store.
"""
