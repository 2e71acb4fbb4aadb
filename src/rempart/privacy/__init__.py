"""Data-subject rights (GDPR): find a person's data, export it (art. 15), erase it (art. 17).

A library; the CLI (``rempart privacy``) and the API call it. Data flow:
``inventory`` (blind-index search, what is stored; no content) -> ``export``
(``archive`` tar of JSON and media, ``sealed`` for delivery under a
passphrase, a copy sealed under the subject's vault key in an ``ExportStore``)
-> ``erasure`` (holds checked, subject key shredded, rows and files deleted in
batches, ``certificate`` signed). See docs/privacy.md.
"""

from rempart.privacy.archive import ARCHIVE_FORMAT, read_archive
from rempart.privacy.certificate import CERTIFICATE_FORMAT, sign_certificate, verify_certificate
from rempart.privacy.erasure import DATA_CLASSES, ErasureResult, erase_subject, subject_pseudonym
from rempart.privacy.errors import (
    AmbiguousSubject,
    CertificateInvalid,
    LegalHoldActive,
    SubjectNotFound,
)
from rempart.privacy.export import ExportResult, export_subject, read_stored_export
from rempart.privacy.holds import RetentionHolds
from rempart.privacy.inventory import (
    Inventory,
    Selector,
    find,
    inventory,
    matching,
    resolve,
    search,
)
from rempart.privacy.media import StoredMedia
from rempart.privacy.ports import (
    DirectoryExportStore,
    ExportStore,
    LegalHolds,
    NoHolds,
    NoMedia,
    RecordingMedia,
)
from rempart.privacy.sealed import open_sealed, seal

__all__ = [
    "ARCHIVE_FORMAT",
    "CERTIFICATE_FORMAT",
    "DATA_CLASSES",
    "AmbiguousSubject",
    "CertificateInvalid",
    "DirectoryExportStore",
    "ErasureResult",
    "ExportResult",
    "ExportStore",
    "Inventory",
    "LegalHoldActive",
    "LegalHolds",
    "NoHolds",
    "NoMedia",
    "RecordingMedia",
    "RetentionHolds",
    "Selector",
    "StoredMedia",
    "SubjectNotFound",
    "erase_subject",
    "export_subject",
    "find",
    "inventory",
    "matching",
    "open_sealed",
    "read_archive",
    "read_stored_export",
    "resolve",
    "seal",
    "search",
    "sign_certificate",
    "subject_pseudonym",
    "verify_certificate",
]
