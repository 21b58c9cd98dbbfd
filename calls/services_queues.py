"""Every write to queues: numbers, timeouts, wrap-up, service-level threshold and member agents."""

from django.db import transaction

from calls.models import Queue


@transaction.atomic
def queue_save(*, form, company) -> Queue:
    """Create or update a queue from a validated QueueForm; members can only be the company's agents."""
    queue = form.save(commit=False)
    queue.company = company
    queue.save()
    form.save_m2m()
    return queue
