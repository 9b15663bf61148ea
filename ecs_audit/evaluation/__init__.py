"""Evaluation: the registered checks run over an inventory, giving findings.

`evaluate` (ecs_audit.evaluation.engine) is the entry point. Around it: the view of one account and
region the checks read (view.py), the subjects they receive (subjects.py), the table of scopes
(scopes.py) and evidence helpers shared by several rule areas (network_evidence.py).
"""

from ecs_audit.evaluation.engine import evaluate

__all__ = ["evaluate"]
