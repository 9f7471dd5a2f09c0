"""The sandbox Jira: a local stand-in for Jira Cloud (REST v3 subset, Connect host, fault injection).

See docs/sandbox.md. ``create_sandbox_app(SandboxConfig(...))`` gives the ASGI app; ``flowcase sandbox`` runs it;
``flowcase.sandbox.testing.running_sandbox()`` runs it for tests.
"""

from flowcase.sandbox.app import SandboxApp, create_sandbox_app
from flowcase.sandbox.site import Sandbox, SandboxConfig

__all__ = ["Sandbox", "SandboxApp", "SandboxConfig", "create_sandbox_app"]
