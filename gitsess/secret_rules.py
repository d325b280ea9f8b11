"""detect-secrets plugins for the tokens coding agents see that its own plugins miss.

detect-secrets loads this file by path (a custom plugin: ``{"name": "KnownTokensDetector",
"path": "file://<this file>"}`` in ``plugins_used``), so it imports nothing from gitsess.
The rules follow the gitleaks default rule set where a token has a distinctive prefix;
each class is one kind of finding, and KnownTokensDetector runs them all as one plugin.
Every rule first checks for its literal prefix, a substring test, so the dozens of rules
cost little on the lines that cannot match.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from re import Pattern
from typing import Any

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.util.code_snippet import CodeSnippet


class _PrefixedDetector(RegexBasedDetector):
    """A regex detector that only runs its patterns on lines holding one of its prefixes."""

    secret_type = ""  # set by each subclass; "" also keeps detect-secrets from loading this one
    prefixes: tuple[str, ...] = ()
    denylist: Iterable[Pattern[str]] = ()

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        if not any(prefix in string for prefix in self.prefixes):
            return
        for regex in self.denylist:
            for match in regex.finditer(string):
                yield match.group(match.lastindex or 0)


def _rule(pattern: str) -> Pattern[str]:
    # The token must not run on into more token characters on either side.
    return re.compile(r"(?<![A-Za-z0-9_])(" + pattern + r")(?![A-Za-z0-9_])")


class GitHubFineGrainedTokenDetector(_PrefixedDetector):
    secret_type = "GitHub Fine-Grained Token"
    prefixes = ("github_pat_",)
    denylist = (_rule(r"github_pat_[A-Za-z0-9_]{82}"),)


class GitHubWholeTokenDetector(_PrefixedDetector):
    """ghp_/gho_/ghu_/ghs_/ghr_ tokens, in place of detect-secrets' own GitHubTokenDetector:
    that one reports only the prefix ("ghp") as the secret, so allowing one finding by its
    hash would allow every GitHub token."""

    secret_type = "GitHub Token"
    prefixes = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
    denylist = (_rule(r"gh[pousr]_[A-Za-z0-9]{36,251}"),)


class AnthropicKeyDetector(_PrefixedDetector):
    secret_type = "Anthropic API Key"
    prefixes = ("sk-ant-",)
    denylist = (_rule(r"sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_-]{32,}"),)


class OpenAIKeyDetector(_PrefixedDetector):
    secret_type = "OpenAI API Key"
    prefixes = ("sk-",)
    denylist = (
        _rule(r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}"),
        _rule(r"sk-[A-Za-z0-9]{48}"),
    )


class GoogleApiKeyDetector(_PrefixedDetector):
    secret_type = "Google API Key"
    prefixes = ("AIza",)
    denylist = (re.compile(r"(?<![A-Za-z0-9_])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9])"),)


class AwsSecretKeyNextToAccessKeyDetector(_PrefixedDetector):
    """A bare 40-character secret key on the same line as an access key id (CSV, a table)."""

    secret_type = "AWS Secret Access Key"
    prefixes = ("AKIA", "ASIA")
    denylist = (
        re.compile(
            r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z]).{1,100}?"
            r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
        ),
        re.compile(
            r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
            r".{1,100}?(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])"
        ),
    )

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for value in super().analyze_string(string):
            if _is_mixed(value):
                yield value


# A variable whose name says it holds a secret, set to a literal: `export API_TOKEN=...`,
# `DB_PASSWORD: ...`, `"clientSecret": "..."`. The generic words (key, pass, auth) count
# only as the last part of a longer name, so `key=...` or `monkey=...` do not.
_SECRET_NAME = (
    r"(?:[A-Za-z0-9_.-]*(?i:secret|token|password|passwd|credentials?|api_?key|apikey)"
    r"|[A-Za-z0-9]+(?:[_.-][A-Za-z0-9]+)*[_.-](?i:key|pass|pwd|auth)"
    r"|[A-Za-z0-9]*[a-z](?:Key|Pass|Pwd|Auth))"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:x+|\*+|\.+|-+|none|null|true|false|undefined|changeme|example\w*|placeholder"
    r"|redacted|dummy\w*|test|secret|password|your[_-].*|<.*>|\[.*\]|\{.*\})$"
    r"|xxxx|\*\*\*\*|REDACTED"
)


class SecretAssignmentDetector(_PrefixedDetector):
    secret_type = "Secret Assignment"
    prefixes = ("=", ":")
    denylist = (
        re.compile(
            r"(?<![A-Za-z0-9_.-])(?:export\s+|set\s+)?['\"]?" + _SECRET_NAME + r"['\"]?"
            r"\s*(?::=|=|:)\s*['\"]?([^\s'\"`,;(){}\[\]<>|&]{8,200})"
        ),
    )

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for value in super().analyze_string(string):
            if value[0] in "$%/.~\\@#" or "${" in value or _PLACEHOLDER.search(value):
                continue
            if len(set(value)) < 5:  # aaaaaaaa, 12121212
                continue
            if re.search(r"\d", value) or len(value) >= 16:
                yield value


def _simple(name: str, kind: str, prefixes: tuple[str, ...], *patterns: str) -> type:
    return type(
        name,
        (_PrefixedDetector,),
        {
            "__module__": __name__,
            "secret_type": kind,
            "prefixes": prefixes,
            "denylist": tuple(map(_rule, patterns)),
        },
    )


PostHogKeyDetector = _simple(
    "PostHogKeyDetector", "PostHog Key", ("ph",), r"ph[cx]_[A-Za-z0-9]{32,}"
)
SlackAppTokenDetector = _simple(
    "SlackAppTokenDetector",
    "Slack App Token",
    ("xapp-", "xoxe"),
    r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+",
    r"xoxe(?:\.xox[bp])?-\d-[A-Z0-9]{146,}",
)
StripeAnyKeyDetector = _simple(
    "StripeAnyKeyDetector",
    "Stripe Key",
    ("k_live_", "k_prod_"),
    r"(?:sk|rk)_(?:live|prod)_[A-Za-z0-9]{10,99}",
)
NpmAccessTokenDetector = _simple(
    "NpmAccessTokenDetector", "npm Token", ("npm_",), r"npm_[A-Za-z0-9]{36}"
)
HuggingFaceTokenDetector = _simple(
    "HuggingFaceTokenDetector", "Hugging Face Token", ("hf_",), r"hf_[A-Za-z]{34}"
)
ShopifyTokenDetector = _simple(
    "ShopifyTokenDetector", "Shopify Token", ("shp",), r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"
)
DigitalOceanTokenDetector = _simple(
    "DigitalOceanTokenDetector", "DigitalOcean Token", ("_v1_",), r"do[opr]_v1_[a-f0-9]{64}"
)
DopplerTokenDetector = _simple(
    "DopplerTokenDetector",
    "Doppler Token",
    ("dp.",),
    r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
)
DatabricksTokenDetector = _simple(
    "DatabricksTokenDetector", "Databricks Token", ("dapi",), r"dapi[a-f0-9]{32}(?:-\d)?"
)
LinearApiKeyDetector = _simple(
    "LinearApiKeyDetector", "Linear API Key", ("lin_api_",), r"lin_api_[A-Za-z0-9]{40}"
)
PostmanApiKeyDetector = _simple(
    "PostmanApiKeyDetector", "Postman API Key", ("PMAK-",), r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}"
)
GrafanaTokenDetector = _simple(
    "GrafanaTokenDetector",
    "Grafana Token",
    ("glsa_", "glc_"),
    r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
    r"glc_[A-Za-z0-9+/]{32,400}={0,2}",
)
AzureClientSecretDetector = _simple(
    "AzureClientSecretDetector",
    "Azure AD Client Secret",
    ("Q~",),
    r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}",
)
AtlassianApiTokenDetector = _simple(
    "AtlassianApiTokenDetector", "Atlassian API Token", ("ATATT3",), r"ATATT3[A-Za-z0-9_=-]{186}"
)
GroqApiKeyDetector = _simple(
    "GroqApiKeyDetector", "Groq API Key", ("gsk_",), r"gsk_[A-Za-z0-9]{52}"
)
VaultTokenDetector = _simple(
    "VaultTokenDetector", "HashiCorp Vault Token", ("hvs.", "hvb."), r"hv[sb]\.[A-Za-z0-9_-]{90,}"
)
AgeSecretKeyDetector = _simple(
    "AgeSecretKeyDetector",
    "Age Secret Key",
    ("AGE-SECRET-KEY-1",),
    r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
)
PulumiTokenDetector = _simple("PulumiTokenDetector", "Pulumi Token", ("pul-",), r"pul-[a-f0-9]{40}")
SentryTokenDetector = _simple(
    "SentryTokenDetector", "Sentry Token", ("sntry",), r"sntr[ysu]s_[A-Za-z0-9_=+/.-]{40,}"
)


class KnownTokensDetector(RegexBasedDetector):
    """Every rule above, as the one plugin detect-secrets runs (``plugins_used`` names only
    this class): detect-secrets spends ~10 us a line on each plugin it calls, so two dozen
    plugins of their own more than doubled the scan. Each finding keeps its rule's kind."""

    secret_type = "Known Token"
    denylist: Iterable[Pattern[str]] = ()

    def __init__(self) -> None:
        rules = [v for v in globals().values() if isinstance(v, type)]
        self.rules = [
            rule() for rule in rules if issubclass(rule, _PrefixedDetector) and rule.secret_type
        ]
        self.denylist = tuple(regex for rule in self.rules for regex in rule.denylist)
        # What a line this flags must match (secret_prefilter.py): a rule's pattern, or a
        # line that is only a 40-character key (its access key id on a line nearby).
        self.gate = (*self.denylist, _BARE_40)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        for _kind, value in self.analyze_kinds(string):
            yield value

    def analyze_kinds(self, string: str) -> Generator[tuple[str, str], None, None]:
        for rule in self.rules:
            for value in rule.analyze_string(string):
                yield rule.secret_type, value

    def analyze_line(
        self,
        filename: str,
        line: str,
        line_number: int = 0,
        context: CodeSnippet | None = None,
        **kwargs: Any,
    ) -> set[PotentialSecret]:
        found = set(self.analyze_kinds(line))
        if context is not None:
            found |= {(AWS_SECRET, key) for key in _aws_secret_beside_its_id(line, context)}
        return {
            PotentialSecret(type=kind, filename=filename, secret=value, line_number=line_number)
            for kind, value in found
        }


AWS_SECRET = AwsSecretKeyNextToAccessKeyDetector.secret_type
_AWS_KEY_ID = re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")
_BARE_40 = re.compile(r"^[\s'\"`,:=|]*([A-Za-z0-9/+]{40})[\s'\",;|]*$")


def _aws_secret_beside_its_id(line: str, context: CodeSnippet) -> Generator[str, None, None]:
    """A line that is only a 40-character key, next to a line with an access key id
    (`aws configure get` output, a two-line note)."""
    match = _BARE_40.match(line)
    if not match or not _is_mixed(match.group(1)):
        return
    at = context.target_index
    near = context.lines[max(0, at - 2) : at] + context.lines[at + 1 : at + 3]
    if any(_AWS_KEY_ID.search(other) for other in near):
        yield match.group(1)


def _is_mixed(value: str) -> bool:
    """A key mixes cases and digits; a 40-character word or hex id does not."""
    return bool(
        re.search(r"[a-z]", value) and re.search(r"[A-Z]", value) and re.search(r"\d", value)
    )
