"""`run.py --self-test`: unit tests of the matcher, substitution, callback
planning and log counting on small hand-written histories; and, when boto3 is
installed, the runner's API plumbing against a tiny in-process fake of the
durable API (fake_api.py). Needs no Lamina host."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, str(HERE))
import matcher as M  # noqa: E402


def ev(eid, etype, **kw):
    e = {"EventId": eid, "EventType": etype,
         "EventTimestamp": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)}
    e.update(kw)
    return e


STEP_HISTORY = [
    ev(1, "ExecutionStarted", Id="exec", ExecutionStartedDetails={"Input": {"Payload": '{"Input":"World"}'}}),
    ev(2, "StepStarted", SubType="Step", Id="op-1", StepStartedDetails={}),
    ev(3, "StepSucceeded", SubType="Step", Id="op-1",
       StepSucceededDetails={"Result": {"Payload": '"Hello, World!"'},
                             "RetryDetails": {"CurrentAttempt": 1}}),
    ev(4, "InvocationCompleted", InvocationCompletedDetails={
        "StartTimestamp": dt.datetime(2025, 1, 1), "EndTimestamp": dt.datetime(2025, 1, 1),
        "RequestId": "r1"}),
]

STEP_EXPECTED = [
    {"EventType": "StepStarted", "SubType": "Step", "EventId": 2, "Id": "${ID1}",
     "EventTimestamp": "*", "StepStartedDetails": {}},
    {"EventType": "StepSucceeded", "SubType": "Step", "EventId": 3, "Id": "${ID1}",
     "EventTimestamp": "*", "StepSucceededDetails": {}},
    {"EventType": "InvocationCompleted", "EventId": 4, "EventTimestamp": "*",
     "InvocationCompletedDetails": {}},
]


class Substitution(unittest.TestCase):
    def test_gen_str_length_and_alphabet(self):
        s = M.expand_generators("${GEN_STR:10}")
        self.assertEqual(len(s), 10)
        self.assertRegex(s, r"^[A-Za-z0-9]{10}$")

    def test_each_generator_is_fresh(self):
        a, b = M.expand_generators("${GEN_STR:16}|${GEN_STR:16}").split("|")
        self.assertNotEqual(a, b)

    def test_variables_and_nested_substitution(self):
        values = M.resolve_variables({"CB_NAME": "${GEN_STR:10}", "CB_PAYLOAD": "${GEN_STR:12}"})
        self.assertEqual(len(values["CB_NAME"]), 10)
        self.assertEqual(len(values["CB_PAYLOAD"]), 12)
        doc = {"Input": "${CB_NAME}", "list": ["${CB_NAME}", 3],
               "Payload": '"${CB_PAYLOAD}"', "Id": "${ID1}", "Re": "${/^[0-5]$/}"}
        out = M.substitute(doc, values)
        self.assertEqual(out["Input"], values["CB_NAME"])
        self.assertEqual(out["list"], [values["CB_NAME"], 3])
        self.assertEqual(out["Payload"], '"%s"' % values["CB_PAYLOAD"])
        self.assertEqual(out["Id"], "${ID1}")  # binding variable left alone
        self.assertEqual(out["Re"], "${/^[0-5]$/}")  # regex left alone

    def test_later_variable_uses_earlier(self):
        values = M.resolve_variables({"A": "${GEN_STR:4}", "B": "x-${A}"})
        self.assertEqual(values["B"], "x-" + values["A"])

    def test_whole_string_keeps_type(self):
        self.assertEqual(M.substitute("${N}", {"N": 5}), 5)
        self.assertEqual(M.substitute("n=${N}", {"N": 5}), "n=5")

    def test_inline_gen_str_in_input(self):
        out = M.substitute({"k": "${GEN_STR:3}"}, {})
        self.assertRegex(out["k"], r"^[A-Za-z0-9]{3}$")

    def test_none_and_scalars_untouched(self):
        self.assertIsNone(M.substitute(None, {}))
        self.assertEqual(M.substitute([], {}), [])
        self.assertEqual(M.substitute(3, {}), 3)

    def test_escape_for_regex(self):
        self.assertEqual(M.substitute("a${X}b", {"X": "1.2"}, escape=re.escape), r"a1\.2b")


class Values(unittest.TestCase):
    def m(self, expected, actual, binds=None):
        return M.match_value(expected, actual, "v", {} if binds is None else binds)

    def test_star_matches_anything(self):
        for actual in ("x", 1, None, {"a": 1}, [1], dt.datetime.now()):
            self.assertIsNone(self.m("*", actual))

    def test_star_key_must_exist(self):
        self.assertIsNone(self.m({"a": "*"}, {"a": 0}))
        self.assertIn("missing", self.m({"a": "*"}, {}))

    def test_empty_object_is_any_object(self):
        self.assertIsNone(self.m({}, {}))
        self.assertIsNone(self.m({}, {"Result": {"Payload": "1"}}))
        self.assertIn("expected an object", self.m({}, "x"))
        self.assertIn("expected an object", self.m({}, None))
        self.assertIn("expected an object", self.m({}, []))

    def test_only_written_keys_compared_recursively(self):
        actual = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
        self.assertIsNone(self.m({"b": {"c": 2}}, actual))
        err = self.m({"b": {"c": 9}}, actual)
        self.assertIn("v.b.c", err)
        self.assertIn("expected 9, got 2", err)
        self.assertIn("v.b.x", self.m({"b": {"x": 1}}, actual))

    def test_written_null_accepts_absent_key(self):
        self.assertIsNone(self.m({"a": None}, {}))
        self.assertIsNone(self.m({"a": None}, {"a": None}))
        self.assertIsNotNone(self.m({"a": None}, {"a": 1}))

    def test_regex(self):
        self.assertIsNone(self.m("${/.*TransientError$/}", "my.TransientError"))
        self.assertIn("/.*TransientError$/", self.m("${/.*TransientError$/}", "TransientErrorX"))
        self.assertIsNone(self.m("${/^[0-5]$/}", 4))  # numbers by their string form
        self.assertIsNotNone(self.m("${/^[0-5]$/}", 7))
        self.assertIsNone(self.m("${/^([0-9]|10)$/}", 10))
        self.assertIsNotNone(self.m("${/^([0-9]|10)$/}", 11))
        self.assertIsNone(self.m("${/Err/}", "SomeErrType"))  # search, not full match

    def test_binding(self):
        binds = {}
        self.assertIsNone(self.m("${ID1}", "abc", binds))
        self.assertEqual(binds["ID1"], "abc")
        self.assertIsNone(self.m("${ID1}", "abc", binds))
        err = self.m("${ID1}", "abd", binds)
        self.assertIn("${ID1}", err)
        self.assertIn('"abc"', err)

    def test_binding_any_type(self):
        binds = {}
        self.assertIsNone(self.m("${X}", {"k": [1]}, binds))
        self.assertIsNone(self.m("${X}", {"k": [1]}, binds))
        self.assertIsNotNone(self.m("${X}", {"k": [2]}, binds))

    def test_embedded_template(self):
        binds = {}
        self.assertIsNone(self.m("op-${N}-x", "op-17-x", binds))
        self.assertEqual(binds["N"], "17")
        self.assertIsNone(self.m("${N}", "17", binds))
        self.assertIsNotNone(self.m("op-${N}-x", "op-18-x", binds))
        self.assertIsNone(self.m("a${/[0-9]+/}b", "a123b"))
        self.assertIsNotNone(self.m("a${/[0-9]+/}b", "a12xb"))

    def test_lists(self):
        self.assertIsNone(self.m([1, "*", {}], [1, "x", {"a": 1}]))
        self.assertIn("list of 2", self.m([1, 2], [1, 2, 3]))
        self.assertIn("v[1]", self.m([1, 2], [1, 3]))
        self.assertIsNotNone(self.m([], {}))

    def test_literals(self):
        self.assertIsNone(self.m("Hello", "Hello"))
        self.assertIsNotNone(self.m("Hello", "hello"))
        self.assertIsNone(self.m(2, 2))
        self.assertIsNone(self.m(2, 2.0))
        self.assertIsNotNone(self.m(2, "2"))
        self.assertIsNotNone(self.m("2", 2))
        self.assertIsNotNone(self.m(1, True))
        self.assertIsNotNone(self.m(True, 1))
        self.assertIsNone(self.m(False, False))

    def test_payload_is_json_text(self):
        self.assertIsNone(self.m({"Payload": '"abc"'}, {"Payload": '"abc"'}))
        self.assertIsNotNone(self.m({"Payload": '"abc"'}, {"Payload": "abc"}))

    def test_timestamp_star(self):
        self.assertIsNone(self.m({"EventTimestamp": "*"},
                                 {"EventTimestamp": dt.datetime(2025, 1, 1)}))


class History(unittest.TestCase):
    def test_step_history_matches(self):
        self.assertIsNone(M.match_history(STEP_EXPECTED, STEP_HISTORY))

    def test_unlisted_actual_events_ignored(self):
        extra = STEP_HISTORY + [ev(5, "ExecutionSucceeded", ExecutionSucceededDetails={})]
        self.assertIsNone(M.match_history(STEP_EXPECTED, extra))

    def test_pairs_by_event_id_not_position(self):
        shuffled = list(reversed(STEP_HISTORY))
        self.assertIsNone(M.match_history(STEP_EXPECTED, shuffled))

    def test_missing_event(self):
        err = M.match_history(STEP_EXPECTED, STEP_HISTORY[:3])
        self.assertIn("event 4 (InvocationCompleted): missing", err)
        self.assertIn("3 StepSucceeded", err)

    def test_wrong_event_type(self):
        hist = [dict(e) for e in STEP_HISTORY]
        hist[2]["EventType"] = "StepFailed"
        err = M.match_history(STEP_EXPECTED, hist)
        self.assertIn("event 3 (StepSucceeded).EventType", err)
        self.assertIn('expected "StepSucceeded", got "StepFailed"', err)

    def test_binding_across_events(self):
        hist = [dict(e) for e in STEP_HISTORY]
        hist[2]["Id"] = "op-2"
        err = M.match_history(STEP_EXPECTED, hist)
        self.assertIn("event 3 (StepSucceeded).Id", err)
        self.assertIn("${ID1}", err)

    def test_distinct_variables_may_differ_or_equal(self):
        exp = [{"EventId": 2, "Id": "${A}"}, {"EventId": 3, "Id": "${B}"}]
        self.assertIsNone(M.match_history(exp, [ev(2, "X", Id="1"), ev(3, "Y", Id="2")]))

    def test_details_must_be_present(self):
        hist = [dict(e) for e in STEP_HISTORY]
        del hist[1]["StepStartedDetails"]
        err = M.match_history(STEP_EXPECTED, hist)
        self.assertIn("event 2 (StepStarted).StepStartedDetails", err)
        self.assertIn("missing", err)

    def test_regex_in_nested_error(self):
        exp = [{"EventId": 3, "StepFailedDetails": {"Error": {"Payload": {
            "ErrorMessage": "*", "ErrorType": "${/.*TransientError$/}"}}}}]
        ok = [ev(3, "StepFailed", StepFailedDetails={"Error": {"Payload": {
            "ErrorMessage": "boom", "ErrorType": "app.TransientError"}}})]
        bad = [ev(3, "StepFailed", StepFailedDetails={"Error": {"Payload": {
            "ErrorMessage": "boom", "ErrorType": "PermanentError"}}})]
        no_msg = [ev(3, "StepFailed", StepFailedDetails={"Error": {"Payload": {
            "ErrorType": "app.TransientError"}}})]
        self.assertIsNone(M.match_history(exp, ok))
        self.assertIn("ErrorType", M.match_history(exp, bad))
        self.assertIn("ErrorMessage", M.match_history(exp, no_msg))

    def test_expected_without_event_id(self):
        self.assertIn("no EventId", M.match_history([{"EventType": "X"}], STEP_HISTORY))

    def test_no_expected_history(self):
        self.assertIsNone(M.match_history(None, []))


class Result(unittest.TestCase):
    def test_string(self):
        self.assertIsNone(M.match_result("Hello, World!", '"Hello, World!"'))
        self.assertIn("Result", M.match_result("Hello, World!", '"Hello"'))

    def test_null(self):
        self.assertIsNone(M.match_result(None, None))
        self.assertIsNone(M.match_result(None, "null"))
        self.assertIsNotNone(M.match_result(None, '"x"'))

    def test_object_exact(self):
        exp = {"user": {"name": "Alice", "tags": ["admin", "active"]}, "count": 2}
        self.assertIsNone(M.match_result(exp, json.dumps(exp)))
        more = dict(exp, extra=1)
        self.assertIn("unexpected keys", M.match_result(exp, json.dumps(more)))
        self.assertIsNotNone(M.match_result(exp, json.dumps(dict(exp, count=3))))

    def test_not_json(self):
        self.assertIn("not JSON", M.match_result("x", "x"))

    def test_number(self):
        self.assertIsNone(M.match_result(3, "3"))
        self.assertIsNotNone(M.match_result(3, '"3"'))


class Callbacks(unittest.TestCase):
    def test_first_unused_matching(self):
        actions = [{"CallbackName": "B", "Operation": "success"},
                   {"CallbackName": "A", "Operation": "success"}]
        used = [False, False]
        self.assertEqual(M.plan_callback_actions("A", actions, used), [1])
        self.assertEqual(M.plan_callback_actions("A", actions, used), [])
        self.assertEqual(M.plan_callback_actions("B", actions, used), [0])

    def test_star_matches_unnamed(self):
        actions = [{"CallbackName": "*", "Operation": "success"}]
        self.assertEqual(M.plan_callback_actions(None, actions, [False]), [0])

    def test_named_does_not_match_unnamed(self):
        self.assertEqual(M.plan_callback_actions(None, [{"CallbackName": "A"}], [False]), [])

    def test_heartbeat_chains_to_next(self):
        actions = [{"CallbackName": "A", "Operation": "heartbeat"},
                   {"CallbackName": "B", "Operation": "success"},
                   {"CallbackName": "A", "Operation": "success"},
                   {"CallbackName": "A", "Operation": "failure"}]
        used = [False] * 4
        self.assertEqual(M.plan_callback_actions("A", actions, used), [0, 2])
        self.assertEqual(used, [True, False, True, False])

    def test_no_action_leaves_callback_open(self):
        self.assertEqual(M.plan_callback_actions("A", [], []), [])

    def test_failure_error_only_given_keys(self):
        self.assertEqual(M.failure_error({"ErrorType": "RejectedError", "ErrorMessage": "not approved"}),
                         {"ErrorType": "RejectedError", "ErrorMessage": "not approved"})
        self.assertEqual(M.failure_error({"ErrorData": {"a": 1}, "StackTrace": "at x"}),
                         {"ErrorData": '{"a": 1}', "StackTrace": ["at x"]})


class Logs(unittest.TestCase):
    ARN = "arn:aws:lambda:us-east-1:000000000000:function:case-1-7:$LATEST/durable-execution/n/abc"
    OTHER = "arn:aws:lambda:us-east-1:000000000000:function:case-1-7:$LATEST/durable-execution/n/xyz"

    def lines(self):
        return [
            f"2025 INFO lamina::durable::guest: Greeting step started for: Ab12 execution={self.ARN}",
            f"\x1b[2m2025\x1b[0m \x1b[32m INFO\x1b[0m lamina::durable::guest: Greeting step completed "
            f"with: Hello, Ab12! \x1b[3mexecution\x1b[0m\x1b[2m=\x1b[0m{self.ARN}",
            f"2025 INFO lamina::durable::guest: Greeting step started for: Ab12 execution={self.OTHER}",
            "2025 INFO lamina: Greeting step started for: Ab12 (no arn)",
        ]

    def test_counts_by_arn_and_regex(self):
        values = {"INPUT_1": "Ab12"}
        started = M.log_regex("/Greeting step started for: ${INPUT_1}/", values)
        done = M.log_regex("/Greeting step completed with: Hello, ${INPUT_1}!/", values)
        anyl = M.log_regex("/${INPUT_1}/", values)
        err = M.log_regex(r"/\[ERROR\]/", values)
        self.assertEqual(M.count_log_lines(self.lines(), self.ARN, started), 1)
        self.assertEqual(M.count_log_lines(self.lines(), self.ARN, done), 1)
        self.assertEqual(M.count_log_lines(self.lines(), self.ARN, anyl), 2)
        self.assertEqual(M.count_log_lines(self.lines(), self.ARN, err), 0)

    def test_arn_text_does_not_match(self):
        self.assertEqual(M.count_log_lines(self.lines(), self.ARN, M.log_regex("/durable-execution/", {})), 0)

    def test_variable_escaped_in_regex(self):
        pat = M.log_regex("/x${V}y/", {"V": "a.b"})
        self.assertTrue(pat.search("xa.by"))
        self.assertFalse(pat.search("xaXby"))


class CaseFiles(unittest.TestCase):
    """Every case file parses and substitutes cleanly (needs PyYAML and the
    case directory from $LAMINA_CONFORMANCE_DIR; skipped otherwise)."""

    def test_case_files(self):
        try:
            import yaml  # noqa: F401
        except ImportError:
            self.skipTest("PyYAML not installed")
        d = os.environ.get("LAMINA_CONFORMANCE_DIR")
        if not d or not Path(d).is_dir():
            self.skipTest("LAMINA_CONFORMANCE_DIR not set")
        import run

        cases = run.load_cases(Path(d), [s for s in run.ALL_SUITES if (Path(d) / s).is_dir()], None)
        self.assertTrue(cases)
        for c in cases:
            with self.subTest(case=c.id):
                p = run.prepare(c)
                text = json.dumps([p.input, p.expected_result, p.actions])
                self.assertNotIn("${", text, "unsubstituted variable")
                self.assertNotIn("GEN_STR", json.dumps(p.history))
                for e in p.history or []:
                    self.assertIn("EventId", e)
                for a in p.actions:
                    self.assertIn(str(a.get("Operation")).lower(), ("success", "failure", "heartbeat"))


class Plumbing(unittest.TestCase):
    """run_case against fake_api.py through the real boto3 client."""

    @classmethod
    def setUpClass(cls):
        try:
            import boto3  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("boto3 not installed")
        import fake_api
        import run

        cls.R = run
        cls.server = fake_api.serve()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def case(self, cid, spec):
        return self.R.Case(cid, "fake", Path(f"/fake/{cid}.yaml"), spec)

    def test_sync_step(self):
        spec = {"Input": "World",
                "ExpectedResult": {"ExecutionStatus": "SUCCEEDED", "Result": "Hello, World!"},
                "ExpectedExecutionHistory": STEP_EXPECTED}
        out = self.R.run_case(self.case("sync", spec), self.url, 2)
        self.assertTrue(out.passed, out.reason)
        self.assertTrue(out.arn.startswith("arn:aws:lambda:"))

    def test_sync_wrong_result(self):
        spec = {"Input": "World",
                "ExpectedResult": {"ExecutionStatus": "SUCCEEDED", "Result": "Hello, Moon!"},
                "ExpectedExecutionHistory": STEP_EXPECTED}
        out = self.R.run_case(self.case("sync", spec), self.url, 0)
        self.assertFalse(out.passed)
        self.assertIn("Hello, Moon!", out.reason)

    def test_async_callback_heartbeat_then_success(self):
        spec = {"AsyncInvoke": True,
                "Variables": {"CB_NAME": "${GEN_STR:10}", "CB_PAYLOAD": "${GEN_STR:12}"},
                "Input": "${CB_NAME}",
                "ExpectedResult": {"ExecutionStatus": "SUCCEEDED"},
                "CallbackActions": [
                    {"CallbackName": "${CB_NAME}", "Operation": "heartbeat"},
                    {"CallbackName": "${CB_NAME}", "Operation": "success",
                     "Payload": "${CB_PAYLOAD}", "Delay": 1}],
                "ExpectedExecutionHistory": [
                    {"EventType": "CallbackStarted", "EventId": 2, "Id": "${ID1}", "Name": "${CB_NAME}",
                     "CallbackStartedDetails": {"CallbackId": "*"}},
                    {"EventType": "CallbackSucceeded", "EventId": 4, "Id": "${ID1}",
                     "CallbackSucceededDetails": {"Result": {"Payload": '"${CB_PAYLOAD}"'}}},
                    {"EventType": "ExecutionSucceeded", "EventId": 6,
                     "ExecutionSucceededDetails": {"Result": "*"}}]}
        out = self.R.run_case(self.case("cb", spec), self.url, 3)
        self.assertTrue(out.passed, out.reason)
        self.assertGreaterEqual(out.seconds, 1.0)

    def test_async_callback_failure(self):
        spec = {"AsyncInvoke": True, "Input": "approval",
                "ExpectedResult": {"ExecutionStatus": "FAILED"},
                "CallbackActions": [{"CallbackName": "*", "Operation": "failure",
                                     "Payload": {"ErrorType": "RejectedError", "ErrorMessage": "no"}}],
                "ExpectedExecutionHistory": [
                    {"EventType": "CallbackFailed", "EventId": 4, "CallbackFailedDetails": {
                        "Error": {"Payload": {"ErrorType": "RejectedError", "ErrorMessage": "no"}}}}]}
        out = self.R.run_case(self.case("cbf", spec), self.url, 0)
        self.assertTrue(out.passed, out.reason)

    def test_no_expected_result_stops(self):
        spec = {"AsyncInvoke": True, "Input": None,
                "ExpectedExecutionHistory": [
                    {"EventType": "WaitStarted", "EventId": 2, "WaitStartedDetails": {"Duration": 3600}},
                    {"EventType": "InvocationCompleted", "EventId": 3}]}
        out = self.R.run_case(self.case("wait", spec), self.url, 0)
        self.assertTrue(out.passed, out.reason)
        self.assertIn("stopped", out.note)
        self.assertEqual(self.server.fake.executions[out.arn]["Status"], "STOPPED")

    def test_unknown_function_is_a_failure(self):
        out = self.R.run_case(self.case("nope", {"Input": None}), self.url, 0)
        self.assertFalse(out.passed)
        self.assertIn("ResourceNotFoundException", out.reason)


def main() -> int:
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=1).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    random.seed()
    sys.exit(main())
