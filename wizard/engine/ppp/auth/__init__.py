"""PPP authentication protocols: PAP, CHAP (MD5, MS-CHAPv1, MS-CHAPv2) and EAP."""

from wizard.engine.ppp.auth.base import AuthProtocol, MppeMaterial
from wizard.engine.ppp.auth.chap import ChapClient, ChapServer
from wizard.engine.ppp.auth.eap import EapClient, EapServer
from wizard.engine.ppp.auth.pap import PapClient, PapServer

__all__ = [
    "AuthProtocol",
    "ChapClient",
    "ChapServer",
    "EapClient",
    "EapServer",
    "MppeMaterial",
    "PapClient",
    "PapServer",
]
