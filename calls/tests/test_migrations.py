"""Data migrations run on a database that already holds rows: nothing is lost."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from companies.services import company_create

BEFORE, AFTER = ("calls", "0004_fewer_indexes_to_write"), ("calls", "0005_queue_name_once_per_company")


def _migrate(*targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_queues_of_one_company_that_share_a_name_keep_it_apart_by_their_number():
    alpha = company_create(name="Alpha", phone="02-111-2222")
    beta = company_create(name="Beta", phone="02-333-4444")
    try:
        Queue = _migrate(BEFORE).get_model("calls", "Queue")
        for company, name, number in [(alpha, "Sales", "7001"), (alpha, "sales", "7002"), (alpha, "Sales", "7003"),
                                      (beta, "Sales", "7004")]:  # fmt: skip
            Queue.objects.create(company_id=company.pk, name=name, number=number)
        Queue = _migrate(AFTER).get_model("calls", "Queue")
        names = dict(Queue.objects.values_list("number", "name"))
        assert names == {"7001": "Sales", "7002": "sales (7002)", "7003": "Sales (7003)", "7004": "Sales"}
    finally:
        _migrate()  # every app at its latest, as the other tests expect, whatever happened above
