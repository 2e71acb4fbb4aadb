"""Errors of the data-subject rights package (all under ``RempartError``).

Conflict
├── LegalHoldActive       held data cannot be erased (GDPR art. 17(3)(e)) (409)
└── AmbiguousSubject      a search matched several customers (409)
NotFound
└── SubjectNotFound       no (live) customer matches (404)
BadRequest
└── CertificateInvalid    an erasure certificate that does not verify (400)
"""

from __future__ import annotations

from rempart.errors import BadRequest, Conflict, NotFound


class LegalHoldActive(Conflict):
    title = "Data under legal hold"
    slug = "legal-hold-active"


class AmbiguousSubject(Conflict):
    title = "Several data subjects match"
    slug = "ambiguous-subject"


class SubjectNotFound(NotFound):
    title = "No such data subject"
    slug = "subject-not-found"


class CertificateInvalid(BadRequest):
    title = "Erasure certificate does not verify"
    slug = "certificate-invalid"


__all__ = ["AmbiguousSubject", "CertificateInvalid", "LegalHoldActive", "SubjectNotFound"]
