"""IW012: no plaintext Secret data in the repository unless the file is SOPS-encrypted.

Default severity: error.

Why: anything committed to Git is readable by everyone with the repository, forever.
Encrypt Secrets with SOPS (Flux decrypts them) or source them from a secret store.

Bad::

    kind: Secret
    stringData:
      password: hunter2

Good::

    kind: Secret
    stringData:
      password: ENC[AES256_GCM,data:...,type:str]
    sops:
      age: [...]
"""

from __future__ import annotations

from collections.abc import Iterator

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule, Severity

RULE = Rule("IW012", "no plaintext Secrets", Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for yaml_file in ctx.model.files.values():
        if yaml_file.sops:
            continue
        for doc in yaml_file.objects:
            if doc.kind != "Secret" or doc.group != "":
                continue
            keys = [k for k in ("data", "stringData") if doc.data.get(k)]
            if not keys:
                continue
            yield RULE.at(
                doc,
                f"Secret {doc.name} has plaintext {' and '.join(keys)} in a file that is not "
                "SOPS-encrypted",
                f"encrypt it: `sops --encrypt --in-place {doc.file}`, or use an ExternalSecret",
                line=ctx.line_of(doc, [keys[0]]),
            )
