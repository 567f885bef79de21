"""Webhooks: a durable outbox written as predictions change, and its delivery loop."""

from foretell.webhooks.deliver import Deliverer, RetryPolicy
from foretell.webhooks.outbox import Outbox

__all__ = ["Deliverer", "Outbox", "RetryPolicy"]
