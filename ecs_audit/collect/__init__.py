"""Collectors: one module per AWS service. The only code that talks to AWS APIs."""
