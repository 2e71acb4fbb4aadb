"""Key providers: where KEKs live (local key file, PKCS#11 HSM, AWS KMS).

The PKCS#11 and KMS providers import their client libraries when built, so
``python-pkcs11`` and ``boto3`` are needed only where those providers are used.
"""

from rempart.vault.providers.base import KeyProvider, with_retries
from rempart.vault.providers.local import LocalKeyFileProvider

__all__ = ["KeyProvider", "LocalKeyFileProvider", "with_retries"]
