"""Tests of the capacity model's pieces (python3 -m unittest discover -s infra/capacity)."""

import math
import unittest

import model

LAYOUT = {
    "BOOKING|BOOKING": ["gsi3 BOOKINGS", "gsi1 USER_BOOKINGS#<user>"],
    "AUDIT|*": ["gsi1 AUDIT_ACTOR#<actor>"],
}


def operation(call, targets, rcu=0, wcu=0, size=0):
    return {"call": call, "targets": targets, "rcu": rcu, "wcu": wcu, "indexWcu": 0, "bytes": size}


class PartitionUnits(unittest.TestCase):
    def test_a_transaction_splits_its_writes_over_its_actions_and_indexed_items_write_their_indexes(self):
        step = {"operations": [
            operation("TransactWriteItems",
                      ["Put BOOKING#{id}|BOOKING", "Put HOLDS|{n}#{id}", "Put AUDIT#booking#{id}|{at}#{id}"],
                      wcu=6, size=1500),
        ]}
        units = model.partition_units(step, LAYOUT, "system")
        self.assertEqual(units["table HOLDS"], [0, 2])
        self.assertEqual(units["table BOOKING#{id}"], [0, 2])
        # 500 bytes per item plus 100 for the entry: one index write each.
        self.assertEqual(units["gsi3 BOOKINGS"], [0, 1])
        self.assertEqual(units["gsi1 AUDIT_ACTOR#system"], [0, 1])
        self.assertNotIn("gsi3 BOOKINGS", model.partition_units(
            {"operations": [operation("GetItem", ["BOOKING#{id}|BOOKING"], rcu=1)]}, LAYOUT, "system"))

    def test_a_query_reads_its_partition_and_a_condition_check_writes_no_index(self):
        step = {"operations": [
            operation("Query", ["table OUTBOX"], rcu=1),
            operation("TransactWriteItems", ["ConditionCheck BOOKING#{id}|BOOKING"], wcu=2, size=700),
        ]}
        units = model.partition_units(step, LAYOUT, "user:<id>")
        self.assertEqual(units["table OUTBOX"], [1, 0])
        self.assertEqual(units["table BOOKING#{id}"], [0, 2])
        self.assertNotIn("gsi3 BOOKINGS", units)

    def test_dispatched_jobs_are_the_outbox_items_deleted_alone(self):
        step = {"operations": [
            operation("TransactWriteItems", ["Put OUTBOX|{at}#{id}", "Delete OUTBOX|{at}#{id}"], wcu=4),
            operation("DeleteItem", ["OUTBOX|{at}#{id}"], wcu=1),
        ]}
        self.assertEqual(model.dispatched_jobs(step), 1)


class Durations(unittest.TestCase):
    def test_only_the_cpu_part_stretches_below_a_full_vcpu(self):
        self.assertEqual(model.scaled(10, 2, 128, 1769), 8 + 2 * 1769 / 128)
        self.assertEqual(model.scaled(10, 2, 2048, 1769), 10)
        # CPU time above the wall time (threads in parallel) counts as the wall time.
        self.assertEqual(model.scaled(10, 30, 1769, 1769), 10)


class Formatting(unittest.TestCase):
    def test_figures_keep_three_significant_digits(self):
        self.assertEqual(model.num(0), "0")
        self.assertEqual(model.num(1234567), "1,234,567")
        self.assertEqual(model.num(12.345), "12.3")
        self.assertEqual(model.num(0.0012345), "0.00123")
        self.assertEqual(model.times(math.inf), "never")


class Template(unittest.TestCase):
    def test_the_template_gives_every_function_a_memory_and_the_schedules_a_rate(self):
        template = model.read_template()
        self.assertGreater(len(template["memory"]), 50)
        self.assertTrue(all(memory >= 128 for memory in template["memory"].values()))
        self.assertEqual(template["schedules"]["relay-outbox"], 1440)
        self.assertIn("process-jobs", template["batch"])
        self.assertGreater(template["stageRate"], 0)


if __name__ == "__main__":
    unittest.main()
