"""The instructor's tools around the course (never imported by students; not in the published student package).

- :mod:`actkit.instructor.notebooks`: graded cells, example submissions, nbgrader commands, scores;
- :mod:`actkit.instructor.demo`: ``make demo``; :mod:`actkit.instructor.release`: ``make release``;
- :mod:`actkit.instructor.course`: the Colab setting (``course.toml``) and the cells generated from it;
- :mod:`actkit.instructor.publish`: the public student repository (``make publish``);
- :mod:`actkit.instructor.site`: the lectures as a static site; :mod:`actkit.instructor.mathjax`: formulas
  typeset offline in the HTML that nbconvert writes (site, feedback, formgrader).

The grading side is :mod:`actkit.grading`; the top level of ``actkit`` is exactly what students import.
"""
