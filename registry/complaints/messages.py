"""Outgoing messages of the complaint workflow: the complaint services' door to registry.messaging.

`queue(...)` writes the message to the durable outbox in the same transaction as the change; it is sent
only after that commit (nothing for a rolled-back change). See registry/messaging for delivery.
"""
from __future__ import annotations

from registry.messaging import Message, queue, sent

__all__ = ["Message", "queue", "sent"]
