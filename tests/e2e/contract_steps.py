"""GraphQL steps the e2e tests share: a contract opened by its account manager, a client
decision maker appointed to it, an expectation proposed by them."""

from __future__ import annotations

OPEN = """mutation($title: String! = "Steps") { openContract(input: {clientOrganisation:
    "Northwind", title: $title, providerOrganisation: "Contoso", startsOn: "2027-01-01",
    name: "Ann Marsh", role: PROVIDER_ACCOUNT_MANAGER, email: "am@contoso.example"}) {
    ... on ContractChanged { created } ... on Refusal { code message } } }"""
# By the account manager: the client's first decision maker, `cfo`.
JOIN = """mutation($c: ID!) { joinContract(input: {contractId: $c, personId: "cfo", name: "CFO",
    role: CLIENT_DECISION_MAKER, side: CLIENT, email: "cfo@example.com"}) {
    __typename ... on Refusal { code message } } }"""
# By a decision maker.
PROPOSE = """mutation($c: ID!, $t: String!) { proposeExpectation(input: {contractId: $c,
    text: $t, businessArea: "service desk", whyItMatters: "the tests"}) {
    __typename ... on ExpectationChanged { consistent expectation { id } }
    ... on Refusal { code message } } }"""
