"""Grading: the instructor's side of the course (never imported by the student-facing helpers).

One module per stage, in the order a submission meets them:

- :mod:`~actkit.grading.preflight`: the instructor's input and every submission checked before
  anything runs; problems become one line each (flags);
- :mod:`~actkit.grading.scan`: a static scan of the student's code, a review aid;
- :mod:`~actkit.grading.repair`: the submission put back into the released shape;
- :mod:`~actkit.grading.execute`: trusted execution, the student's cells in the sandboxed kernel
  (:mod:`~actkit.grading.sandbox`) and the tests in the tester (:mod:`~actkit.grading.tester`),
  which reaches the student's objects through the bridge (:mod:`~actkit.grading.bridge`) in the
  data-only format of :mod:`~actkit.grading.codec`;
- :mod:`~actkit.grading.feedback`: feedback without hidden tests; :mod:`~actkit.grading.alttext`: a text
  alternative for every figure of the feedback and the formgrader;
- :mod:`~actkit.grading.parallel`: ``actkit-grade``, a class on Dask; :mod:`~actkit.grading.report`.

The threat model and what each part guarantees: ``actkit/SECURITY.md``.
"""

# "2026-01-01 12:00:00.000000: I tensorflow/core/...cc:12] ...", "W0000 00:00:1700000000.1 123 x.cc:12] ...",
# "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR".
# Python warnings are NOT matched: a RuntimeWarning from a student's function is a real fault.
TF_LOG_PATTERN = (
    r"(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+\.cc:\d+\]"
    r"|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+\.cc:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|oneDNN custom operations are on)"
)
