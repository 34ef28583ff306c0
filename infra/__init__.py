"""The kubeflow Pulumi program and its settings, cluster and platform."""
