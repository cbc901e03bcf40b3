"""The cipher layer: keys, AES-GCM envelope, normalisation, blind indexes and encrypted fields.

The bottom layer of ``privacy``: it imports only the standard library, ``cryptography``,
Django's ORM/settings machinery and other ``privacy.cipher`` modules. It never imports
models, DRF or the rest of ``privacy`` (registry, audit, erasure, ...), so those build on
it and not the other way round. ``tests/privacy/test_layering.py`` enforces this.

Inside the layer the order is ``keys`` <- ``crypto``, ``normalise`` <- ``blind_index`` <-
``fields``; caches derived from keys register with :func:`privacy.cipher.keys.on_reset`
instead of ``keys`` importing them.
"""
