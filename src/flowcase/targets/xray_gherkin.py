"""Xray Cucumber tests: the Gherkin scenario of each test as the Test's definition, instead of manual steps.

Chosen by the project setting ``xray_test_type = "cucumber"`` (or ``flowcase publish --xray-tests cucumber``).
Everything else is Xray publishing (:mod:`flowcase.targets.xray`: identity, Test Set, coverage links, obsolete
tests); only what a Test holds differs:

- the definition is the scenario's steps as the Gherkin export writes them (``Given the test data`` with its
  table, ``When`` action / ``Then`` expected result per step, the end reached), with ``Examples`` when the test
  has data variants (Xray then reads it as a Scenario Outline);
- it is written with ``updateTestType(testType: {name: "Cucumber"})`` then ``updateGherkinTestDefinition``, in one
  GraphQL request; the test type and the text are part of the test's hash, so a republish of an unchanged model
  writes nothing, a changed scenario is rewritten in place (same key), and switching the setting back and forth
  converts the published Tests in place.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from flowcase.export.gherkin import definition
from flowcase.generate.suite import TestCase
from flowcase.jira.settings_store import PublishSettings
from flowcase.targets.xray import XrayExtras

CUCUMBER = "Cucumber"
WRITE = (
    "mutation Gherkin($id: String!, $gherkin: String!) { "
    f'type: updateTestType(issueId: $id, testType: {{name: "{CUCUMBER}"}}) {{ issueId }} '
    "definition: updateGherkinTestDefinition(issueId: $id, gherkin: $gherkin) { issueId } }"
)


class XrayGherkinExtras(XrayExtras):
    """Cucumber Tests (see the module docs); the Test Set and the description as for manual tests."""

    @cached_property
    def gherkin(self) -> dict[str, str]:
        """Each test's Gherkin scenario, the definition of its Cucumber Test."""
        return {t.id: definition(t, self.model) for t in self.suite.tests}

    def content(self, test: TestCase) -> Any:
        return {"testType": CUCUMBER, "gherkin": self.gherkin.get(test.id, "")}

    async def write(self, key: str, issue_id: str, test_id: str) -> None:
        await self.xray.graphql(WRITE, {"id": issue_id, "gherkin": self.gherkin.get(test_id, "")})


def extras_class(settings: PublishSettings) -> type[XrayExtras]:
    """The extras that write what ``settings`` asks an Xray test to be."""
    return XrayGherkinExtras if settings.xray_test_type == "cucumber" else XrayExtras


__all__ = ["XrayGherkinExtras", "extras_class"]
