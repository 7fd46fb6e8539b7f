"""IKE engines: the ISAKMP/IKE payload codec shared by both versions, IKEv1 (``v1``) and failure wording.

:mod:`wizard.engine.ike.payloads` holds the header, generic payload chain and data attributes whose
layout IKEv1 and IKEv2 share; each version keeps its own payload bodies and state machines.
"""
