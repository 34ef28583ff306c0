"""Example KubeFlow pipelines: definitions, local runs, and their deployment to a KFP API."""
