"""A client sends the contract's version it read as `expectedVersion`, through `accord dev`,
after each kind of change of the contract itself: the command goes through.

Before, after a deadline policy was set or an auditor nominated (as `accord demo` does), the
contract read one version behind its stream, and a command sent with it was refused CONFLICT
on every try: reloading gave the same stale version.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.accord_process import accord_env, accord_running, answer
from tests.e2e.contract_steps import OPEN

VERSION = "query($c: ID!) { contract(id: $c) { version } }"
SET_POLICY = """mutation($c: ID!) { setDeadlinePolicy(input: {contractId: $c, thresholds: [50],
    acknowledgementWindow: "P3D"}) { __typename ... on ContractChanged { version }
    ... on Refusal { code message } } }"""
NOMINATE = """mutation($c: ID!) { joinContract(input: {contractId: $c, personId: "ada",
    name: "Ada Auditor", role: AUDITOR, side: PROVIDER}) { __typename
    ... on ContractChanged { version } ... on Refusal { code message } } }"""
JOIN_AT = """mutation($c: ID!, $p: String!, $v: Int!) { joinContract(input: {contractId: $c,
    personId: $p, name: $p, role: PROVIDER_DELIVERY_LEAD, side: PROVIDER, expectedVersion: $v}) {
    __typename ... on ContractChanged { version } ... on Refusal { code message } } }"""


def test_the_version_read_is_the_version_a_command_may_name(tmp_path: Path) -> None:
    with accord_running(tmp_path, accord_env(tmp_path / ".accord")) as running:
        url = running.url
        contract = str(answer(url, "am", OPEN)["created"])
        for n, change in enumerate((SET_POLICY, NOMINATE)):
            changed = answer(url, "am", change, c=contract)
            assert changed["__typename"] == "ContractChanged", changed
            read = answer(url, "am", VERSION, c=contract)["version"]
            assert read == changed["version"]
            joined = answer(url, "am", JOIN_AT, c=contract, p=f"lead{n}", v=read)
            assert joined["__typename"] == "ContractChanged", joined
            assert joined["version"] == read + 1
