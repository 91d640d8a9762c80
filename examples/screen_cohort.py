"""Screen a synthetic cohort with the built-in rule set and with a clinic's own.

SYNTHETIC DATA: `kapproto.synthetic.candidates` draws 2,000 made-up candidates
with the prevalences documented in `kapproto.synthetic.CANDIDATE_PREVALENCE`,
and leaves about 1.5 % of facts unknown. Unknown is never "no": a rule that
cannot be decided makes the decision `incomplete`, never `eligible`.

The same facts are screened twice with `screen_many` (each rule set compiled
once): with kapproto's built-in `ketamine-contraindications`, and with Clinic
X's own `custom_protocol/clinic/clinic-eligibility.toml` (made up), which is
stricter on psychosis and pregnancy. The script prints the counts by decision
and the rules that most often decided.

Run it from anywhere: `python examples/screen_cohort.py`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from kapproto import Decision, get_ruleset, load_ruleset, synthetic
from kapproto.screening import screen_many

CLINIC_RULES = (
    Path(__file__).resolve().parent / "custom_protocol" / "clinic" / "clinic-eligibility.toml"
)


def main() -> int:
    facts = synthetic.candidates(2000, seed=2026)
    rulesets = [get_ruleset("ketamine-contraindications"), load_ruleset(CLINIC_RULES)]
    print("SYNTHETIC candidates: 2000 (not real patients)")
    print(f"{'rule set':<30}" + "".join(f"{d.value:>12}" for d in Decision))
    deciding: dict[str, Counter[str]] = {}
    for ruleset in rulesets:
        run = screen_many(facts, ruleset)
        matched: Counter[str] = Counter()
        for report in run:
            matched.update(f.rule_id for f in report.findings if f.outcome.value == "matched")
        label = f"{ruleset.id}@{ruleset.version}"
        print(f"{label:<30}" + "".join(f"{run.summary[d]:>12}" for d in Decision))
        deciding[label] = matched
    for label, matched in deciding.items():
        top = ", ".join(f"{rule} {n}" for rule, n in matched.most_common(4))
        print(f"most often matched under {label}: {top}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
