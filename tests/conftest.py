"""Project-wide test settings."""

import os

from hypothesis import settings

# CI runs a fixed set of generated examples, so a red run is reproducible; locally they vary.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
