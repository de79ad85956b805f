"""Suspect links through GraphQL over HTTP on a real `accord dev`: refining a committed
expectation that an obligation depends on and a risk names flags three items (the commitment,
the obligation, the risk), each with the diff that raised it; reviewing one clears it, and
someone who may not decide it is refused; the risk's discloser and the account manager are
told, each with a notice naming the item and the diff."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.accord_process import accord_dev
from tests.e2e.test_baselines import (
    REFUSAL,
    agreed,  # noqa: F401 (the agreed set this module's baseline test freezes)
    fresh,
    mutate,
    post,
    propose,
    refine_and_commit,
)

FLAGS = """query($c: ID!) { suspects(contractId: $c) { itemId kind expectationId fromRevision
    revision changes { field old new } reviewers open } }"""
REVIEW = f"""mutation($i: ID!, $o: ReviewOutcome!) {{ reviewSuspect(input: {{itemId: $i,
    outcome: $o, reason: "The same access is still needed"}}) {{ __typename {REFUSAL}
    ... on SuspectItem {{ itemId suspect flags {{ outcome reviewedBy }} }} }} }}"""
ITEMS = """query($c: ID!) { contract(id: $c) {
    expectations { id suspect { open flags { kind changes { field old new } } } }
    obligations { id suspect { open flags { kind revision } } }
    risks { id suspect { open flags { kind changes { new } } } } } }"""
NOTICES = """query($c: ID) { notifications(contractId: $c, first: 100)
  { edges { node { trigger subject data } } } }"""


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with accord_dev(tmp_path_factory.mktemp("suspects")) as (url, _):
        yield url


def test_a_refinement_flags_what_rested_on_the_earlier_terms_until_reviewed(url: str) -> None:
    contract = mutate(url, "am", f"""mutation {{ openContract(input: {{clientOrganisation: "N",
        providerOrganisation: "C", title: "Stores IT", startsOn: "2027-01-01", name: "Ann",
        role: PROVIDER_ACCOUNT_MANAGER}}) {{ __typename {REFUSAL}
        ... on ContractChanged {{ created }} }} }}""", "ContractChanged")["created"]  # fmt: skip
    join = f"""mutation($c: ID!, $p: String!, $n: String!, $r: Role!) {{ joinContract(input: {{
        contractId: $c, personId: $p, name: $n, role: $r}}) {{ __typename {REFUSAL} }} }}"""
    mutate(url, "am", join, "ContractChanged", c=contract, p="sponsor", n="Sam",
           r="CLIENT_SPONSOR")  # fmt: skip
    mutate(url, "sponsor", join, "ContractChanged", c=contract, p="cfo", n="Chris",
           r="CLIENT_DECISION_MAKER")  # fmt: skip
    mutate(url, "am", join, "ContractChanged", c=contract, p="lead", n="Lee",
           r="PROVIDER_DELIVERY_LEAD")  # fmt: skip
    expectation = mutate(url, "cfo", f"""mutation($c: ID!) {{ proposeExpectation(input: {{
        contractId: $c, text: "Tills work", businessArea: "stores"}}) {{ __typename {REFUSAL}
        ... on ExpectationChanged {{ created }} }} }}""", "ExpectationChanged",
        c=contract)["created"]  # fmt: skip
    refine_and_commit(url, expectation, "99.5")
    obligation = mutate(url, "am", f"""mutation($c: ID!, $e: ID!) {{ proposeObligation(input: {{
        contractId: $c, what: "Monitoring access", neededFrom: "cfo", dueOn: "2027-01-15",
        dependsOn: [$e]}}) {{ __typename {REFUSAL} ... on ObligationChanged {{ created }} }} }}""",
        "ObligationChanged", c=contract, e=expectation)["created"]  # fmt: skip
    risk = mutate(url, "lead", f"""mutation($c: ID!, $e: ID!) {{ discloseRisk(input: {{
        contractId: $c, kind: PROBLEM, title: "Peak load", description: "December doubles",
        likelihood: 3, impact: 4, affectedExpectations: [$e]}}) {{ __typename {REFUSAL}
        ... on RiskChanged {{ created }} }} }}""", "RiskChanged", c=contract,
        e=expectation)["created"]  # fmt: skip

    refine_and_commit(url, expectation, "99.9")

    flags = post(url, fresh("cfo"), FLAGS, c=contract)["suspects"]
    assert {(f["itemId"], f["kind"]) for f in flags} == {
        (expectation, "COMMITMENT"), (obligation, "OBLIGATION"), (risk, "RISK"),
    }  # fmt: skip
    for flag in flags:
        assert flag["open"] and flag["expectationId"] == expectation
        assert (flag["fromRevision"], flag["revision"]) == (2, 3)
        assert flag["changes"] == [{"field": "terms.target", "old": "99.5", "new": "99.9"}]

    # Each item shows its own flags, with the diff that raised them.
    items = post(url, fresh("cfo"), ITEMS, c=contract)["contract"]
    [shown] = [e["suspect"] for e in items["expectations"] if e["id"] == expectation]
    assert shown == {"open": True, "flags": [{"kind": "COMMITMENT", "changes": [
        {"field": "terms.target", "old": "99.5", "new": "99.9"}]}]}  # fmt: skip
    assert items["obligations"][0]["suspect"] == {
        "open": True, "flags": [{"kind": "OBLIGATION", "revision": 3}]
    }  # fmt: skip
    assert items["risks"][0]["suspect"]["flags"] == [{"kind": "RISK", "changes": [{"new": "99.9"}]}]

    [refused] = post(url, fresh("sponsor"), REVIEW, i=obligation, o="STILL_VALID").values()
    assert (refused["__typename"], refused["code"]) == ("Forbidden", "NOT_PERMITTED")
    reviewed = mutate(url, "cfo", REVIEW, "SuspectItem", i=obligation, o="STILL_VALID")
    assert reviewed["suspect"] is False
    assert reviewed["flags"] == [{"outcome": "STILL_VALID", "reviewedBy": "cfo"}]

    still = post(url, fresh("am"), FLAGS, c=contract)["suspects"]
    assert {f["kind"] for f in still} == {"COMMITMENT", "RISK"}
    items = post(url, fresh("am"), ITEMS, c=contract)["contract"]
    assert items["obligations"][0]["suspect"] == {"open": False, "flags": []}
    assert items["risks"][0]["suspect"]["open"] is True

    # The risk's discloser hears of its flag; the account manager of all three.
    [told] = suspect_notices(url, "lead", contract, 1)
    assert told["subject"] == "Review needed: a risk rests on changed terms"
    assert (told["data"]["item_id"], told["data"]["kind"]) == (risk, "risk")
    assert told["data"]["changes"] == [{"field": "terms.target", "before": "99.5",
                                        "after": "99.9"}]  # fmt: skip
    am = suspect_notices(url, "am", contract, 3)
    assert {n["data"]["item_id"] for n in am} == {expectation, obligation, risk}
    # The client's people own none of the three: by default they are not told (their notices
    # would have been queued with the account manager's, from the same events).
    assert suspect_notices(url, "cfo", contract, 0) == []


def suspect_notices(url: str, person: str, contract: str, expected: int) -> list[Any]:
    """The person's suspect-link notices, once `expected` of them arrived (notices are queued a
    moment after the events that cause them) or after a while."""
    deadline = time.monotonic() + 20
    while True:
        notices = post(url, fresh(person), NOTICES, c=contract)["notifications"]["edges"]
        found = [n["node"] for n in notices if n["node"]["trigger"] == "LINK_SUSPECTED"]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


BASELINES = """query($c: ID!) { contract(id: $c) { baselines { id suspect { open
    flags { kind changes { field old new } } } } } }"""


@pytest.fixture
def baselined(request: pytest.FixtureRequest, url: str) -> tuple[str, str, str]:
    """A contract whose committed expectation was ranked and frozen in a baseline."""
    contract, expectation = request.getfixturevalue("agreed")
    return contract, expectation, propose(url, contract, "Scope at signature")["created"]


def test_rewording_flags_the_baseline_that_holds_it_and_the_published_ranking(
    url: str, baselined: tuple[str, str, str]
) -> None:
    contract, expectation, baseline = baselined
    assert post(url, fresh("am"), BASELINES, c=contract)["contract"]["baselines"][0]["suspect"] == {
        "open": False, "flags": []
    }  # fmt: skip

    mutate(url, "am", f"""mutation($e: ID!) {{ refineExpectation(input: {{expectationId: $e,
        text: "Tills are available in all opening hours", reason: "Sunday opening",
        terms: {{metric: "till availability", comparison: AT_LEAST, target: "99.5",
        unit: "percent", recurrence: MONTHLY, measurementMethod: "monitoring",
        measuredBy: "provider"}}}}) {{ __typename {REFUSAL} }} }}""",
        "ExpectationChanged", e=expectation)  # fmt: skip

    [frozen] = post(url, fresh("sponsor"), BASELINES, c=contract)["contract"]["baselines"]
    assert frozen["id"] == baseline
    diff = [{"field": "text", "old": "Tills are available in business hours",
             "new": "Tills are available in all opening hours"}]  # fmt: skip
    assert frozen["suspect"] == {"open": True, "flags": [{"kind": "BASELINE", "changes": diff}]}
    flags = post(url, fresh("cfo"), FLAGS, c=contract)["suspects"]
    assert {(f["itemId"], f["kind"]) for f in flags} == {
        (expectation, "COMMITMENT"), (baseline, "BASELINE"), (contract, "RANKING"),
    }  # fmt: skip

    # A baseline is reviewed by whoever must sign one; the ranking by the client's people.
    cleared = mutate(url, "sponsor", REVIEW, "SuspectItem", i=baseline, o="NEEDS_CHANGE")
    assert cleared["suspect"] is False
    [refused] = post(url, fresh("am"), REVIEW, i=contract, o="STILL_VALID").values()
    assert refused["code"] == "NOT_PERMITTED"
    assert (
        mutate(url, "cfo", REVIEW, "SuspectItem", i=contract, o="STILL_VALID")["suspect"] is False
    )
    [after] = post(url, fresh("am"), BASELINES, c=contract)["contract"]["baselines"]
    assert after["suspect"] == {"open": False, "flags": []}
