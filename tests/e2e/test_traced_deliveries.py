"""An operator follows a webhook back to the command that caused it: the notice is sent in the
trace its source event was stored in, on `accord dev`'s default settings (no exporter)."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from shared.auth import mint_token
from shared.settings import Settings
from tests.e2e.accord_process import accord_env, accord_running, answer
from tests.e2e.contract_steps import JOIN, OPEN, PROPOSE
from tests.integration.http_server import serving
from tests.integration.notifications.receiver import Receiver
from tests.support.waiting import eventually

SECRET = "traced-deliveries-webhook-secret"

PREFER = """mutation($c: ID!, $hook: String!) { changeNotificationPreferences(input:
    {contractId: $c, channel: WEBHOOK, webhookUrl: $hook}) {
    __typename ... on Refusal { code message } } }"""


def propose(url: str, contract: str, text: str, traceparent: str) -> str:
    """A proposal by the client's decision maker, sent in the caller's trace."""
    headers = {"authorization": f"Bearer {mint_token(Settings(), 'cfo')}"}
    if traceparent:
        headers["traceparent"] = traceparent
    body = {"query": PROPOSE, "variables": {"c": contract, "t": text}}
    answered = httpx.post(url, json=body, headers=headers, timeout=30).json()
    payload = answered["data"]["proposeExpectation"]
    assert payload["__typename"] == "ExpectationChanged", answered
    return str(payload["expectation"]["id"])


async def test_a_webhook_carries_the_trace_of_the_command_that_caused_it(tmp_path: Path) -> None:
    hooks = Receiver(SECRET)
    async with serving(hooks.app) as hook_url:
        env = accord_env(
            tmp_path / ".accord",
            ACCORD_NOTIFY_WEBHOOK_SECRET=SECRET,
            ACCORD_NOTIFY_WEBHOOK_ALLOWED_NETWORKS='["127.0.0.0/8"]',
        )
        env.pop("OTEL_SDK_DISABLED", None)  # the suite's own setting: Accord's default is on
        with accord_running(tmp_path, env) as running:
            url = running.url
            contract = str(answer(url, "am", OPEN)["created"])
            assert answer(url, "am", JOIN, c=contract)["__typename"] == "ContractChanged"
            preferred = answer(url, "am", PREFER, c=contract, hook=f"{hook_url}/hook/ok")
            assert preferred["__typename"] == "NotificationPreferencesChanged", preferred

            # Two proposals, each in a trace of its caller's; the account manager hears of both.
            expectations: dict[str, str] = {}  # expectation id -> the trace id it came in
            for n in range(2):
                trace = secrets.token_hex(16)
                caller = f"00-{trace}-{secrets.token_hex(8)}-01"
                expectations[propose(url, contract, f"Proposal {n}", caller)] = trace

            def proposals() -> dict[str, str]:
                """Expectation id -> the trace id its webhook came in."""
                return {
                    payload["data"]["expectation_id"]: hooks.traces[key].split("-")[1]
                    for key, payload in hooks.accepted.items()
                    if payload["trigger"] == "expectation_proposed" and hooks.traces[key]
                }

            await eventually(lambda: set(proposals()) >= set(expectations), timeout=30)
            assert {e: proposals()[e] for e in expectations} == expectations
