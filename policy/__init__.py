"""The kubeflow-pulumi CrossGuard policy pack (PulumiPolicy.yaml, __main__.py) and its rules."""
