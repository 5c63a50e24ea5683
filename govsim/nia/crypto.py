"""pysaml2's XML signing and encryption done by the `xmlsec` Python binding.

pysaml2 signs and encrypts through a "crypto backend". Its default one runs Debian's `xmlsec1`
program, which a fresh machine does not have; the one it calls "XMLSecurity" is written for
pyXMLSecurity, another package whose `xmlsec` module has `sign()`/`verify()`/`parse_xml()` — with
the `xmlsec` binding installed here it fails (`module 'xmlsec' has no attribute 'parse_xml'`) and
it never could encrypt. This backend implements the same interface on the binding that
python3-saml uses too (the project pins lxml and xmlsec to one libxml2), so `pip install` is all
the simulated NIA needs.

pysaml2 still builds every message and the signature templates (RSA-SHA256, SHA-256 digests,
exclusive c14n, the certificate in KeyInfo); this module only fills them in. Assertions are
encrypted with AES-256-GCM under a session key wrapped with RSA-OAEP (MGF1), whatever session key
type pysaml2 asks for (its default is triple DES, which nobody should still accept).
"""

import hashlib
import threading

import xmlsec
from lxml import etree
from saml2 import SamlBase
from saml2.sigver import (
    ASSERT_XPATH,
    CryptoBackend,
    DecryptError,
    EncryptError,
    SignatureError,
    pre_encrypt_assertion,
)

ID_ATTRIBUTE = "ID"
CERTIFICATE, PRIVATE_KEY = xmlsec.KeyFormat.CERT_PEM, xmlsec.KeyFormat.PEM
MANAGERS_PER_THREAD = 32
_managers = threading.local()


def _keys_manager(pem: bytes, key_format: int) -> xmlsec.KeysManager:
    """A keys manager holding the one key `pem`, made once per thread and key: making one loads
    the system's CA bundle (some 15 ms), far more than the encryption it serves. Per thread,
    as xmlsec promises nothing about sharing one between threads."""
    made = getattr(_managers, "by_key", None)
    if made is None:
        made = _managers.by_key = {}
    token = (hashlib.sha256(pem).digest(), key_format)
    manager = made.get(token)
    if manager is None:
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_memory(pem, key_format))
        if len(made) >= MANAGERS_PER_THREAD:
            made.clear()
        made[token] = manager
    return manager


def _parse(document: str | bytes | SamlBase) -> etree._Element:
    if isinstance(document, SamlBase):
        document = document.to_string()
    if isinstance(document, str):
        # lxml refuses a str that carries an encoding declaration; bytes are always accepted.
        document = document.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False)
    return etree.fromstring(document, parser)


def _serialise(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


def _tag_of(node_name: str) -> str:
    """pysaml2 names a node "namespace:LocalName"; lxml spells it "{namespace}LocalName"."""
    namespace, _, local = node_name.rpartition(":")
    return f"{{{namespace}}}{local}" if namespace else local


def _signed_node(root: etree._Element, node_name: str, node_id: str | None) -> etree._Element:
    tag = _tag_of(node_name)
    if node_id:
        found = root.xpath("//*[@ID=$id]", id=node_id)
        if len(found) != 1 or found[0].tag != tag:
            raise SignatureError(f"no single {node_name} with ID {node_id}")
        return found[0]
    if root.tag == tag:
        return root
    found = root.findall(f".//{tag}")
    if not found:
        raise SignatureError(f"no {node_name} to sign or verify")
    return found[0]


def _with_namespaces_in_scope(node: etree._Element) -> etree._Element:
    """The node, now declaring every namespace in scope itself, with the same prefixes.

    Encryption serialises the node alone, so prefixes declared on its ancestors would be lost;
    pysaml2's "self-contained" mode fixes that by renaming them (encas0:, encas1:, …), which breaks
    the assertion's signature at an SP that puts the decrypted assertion back into the Response:
    the parser folds the names into the Response's prefixes, and exclusive c14n covers prefixes.
    Keeping the very prefixes of the Response avoids both problems.
    """
    copy = etree.Element(node.tag, attrib=dict(node.attrib), nsmap=node.nsmap)
    copy.text = node.text
    for child in list(node):
        copy.append(child)
    node.getparent().replace(node, copy)
    return copy


class XmlsecBindingBackend(CryptoBackend):
    """Sign, verify and encrypt with the `xmlsec` binding (see the module's docstring)."""

    @property
    def version(self) -> str:
        return ".".join(str(part) for part in xmlsec.get_libxmlsec_version())

    def sign_statement(
        self, statement: str | SamlBase, node_name: str, key_file: str, node_id: str | None
    ) -> str:
        """Fill in the ds:Signature template pysaml2 put inside the node with ID `node_id`."""
        root = _parse(statement)
        node = _signed_node(root, node_name, node_id)
        signature = xmlsec.tree.find_child(
            node, xmlsec.constants.NodeSignature, xmlsec.constants.DSigNs
        )
        if signature is None:
            raise SignatureError(f"{node_name} {node_id} has no signature template")
        xmlsec.tree.add_ids(root, [ID_ATTRIBUTE])
        context = xmlsec.SignatureContext()
        try:
            context.key = xmlsec.Key.from_file(str(key_file), xmlsec.KeyFormat.PEM)
            context.sign(signature)
        except xmlsec.Error as problem:
            raise SignatureError(str(problem)) from problem
        return _serialise(root)

    def validate_signature(
        self,
        signedtext: str,
        cert_file: str,
        cert_type: str,
        node_name: str,
        node_id: str | None,
    ) -> bool:
        """Whether the node's own enveloped signature verifies with the certificate."""
        if cert_type != "pem":
            return False
        try:
            root = _parse(signedtext)
            node = _signed_node(root, node_name, node_id)
        except (etree.XMLSyntaxError, SignatureError):
            return False
        signature = xmlsec.tree.find_child(
            node, xmlsec.constants.NodeSignature, xmlsec.constants.DSigNs
        )
        if signature is None:
            return False
        # The signature must cover this very node, not some other element of the document.
        references = signature.findall(
            f"{{{xmlsec.constants.DSigNs}}}SignedInfo/{{{xmlsec.constants.DSigNs}}}Reference"
        )
        if len(references) != 1 or references[0].get("URI") != f"#{node.get(ID_ATTRIBUTE)}":
            return False
        xmlsec.tree.add_ids(root, [ID_ATTRIBUTE])
        # The key is given, not looked up: a KeysManager would try to trust the certificate in
        # the signature's KeyInfo instead, which is self-signed and not what is trusted here.
        context = xmlsec.SignatureContext()
        try:
            context.key = xmlsec.Key.from_file(str(cert_file), xmlsec.KeyFormat.CERT_PEM)
            context.verify(signature)
        except xmlsec.Error:
            return False
        return True

    def encrypt_assertion(
        self,
        statement: str | SamlBase,
        enc_key: str,
        template: object = None,
        key_type: str = "",
        node_xpath: str | None = None,
        node_id: str | None = None,
    ) -> str:
        """Replace the Assertion inside EncryptedAssertion by its EncryptedData.

        `enc_key` is the file of the recipient's certificate. pysaml2's template and session key
        type are ignored on purpose: the algorithms are fixed here (see the module's docstring).
        """
        if isinstance(statement, SamlBase):
            statement = pre_encrypt_assertion(statement)
        root = _parse(statement)
        # pysaml2's default path starts at the document root; lxml's xpath on the root element
        # wants it relative to the document, which the same absolute expression is.
        found = root.getroottree().xpath(node_xpath or ASSERT_XPATH)
        if len(found) != 1:
            raise EncryptError("expected exactly one assertion to encrypt")
        assertion = _with_namespaces_in_scope(found[0])
        try:
            with open(enc_key, "rb") as file:
                certificate_pem = file.read()
            encrypted = xmlsec.template.encrypted_data_create(
                root,
                xmlsec.constants.TransformAes256Gcm,
                type=xmlsec.constants.TypeEncElement,
                ns="xenc",
            )
            xmlsec.template.encrypted_data_ensure_cipher_value(encrypted)
            key_info = xmlsec.template.encrypted_data_ensure_key_info(encrypted, ns="ds")
            encrypted_key = xmlsec.template.add_encrypted_key(
                key_info, xmlsec.constants.TransformRsaOaep
            )
            xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
            context = xmlsec.EncryptionContext(_keys_manager(certificate_pem, CERTIFICATE))
            context.key = xmlsec.Key.generate(
                xmlsec.constants.KeyDataAes, 256, xmlsec.constants.KeyDataTypeSession
            )
            context.encrypt_xml(encrypted, assertion)
        except (xmlsec.Error, OSError) as problem:
            raise EncryptError(str(problem)) from problem
        return _serialise(root)

    def encrypt(self, text: str, recv_key: str, template: object, key_type: str) -> str:
        raise EncryptError("the simulated NIA encrypts whole assertions only")

    def decrypt(self, enctext: str, key_file: str) -> str:
        """Replace every EncryptedData of the document by what it decrypts to with the private
        key in `key_file` (NIA as the broker decrypts the assertions of identity providers)."""
        try:
            root = _parse(enctext)
        except etree.XMLSyntaxError as problem:
            raise DecryptError(str(problem)) from problem
        found = root.iter(f"{{{xmlsec.constants.EncNs}}}EncryptedData")
        encrypted = [node for node in found if node.getparent() is not None]
        if not encrypted:
            raise DecryptError("nothing to decrypt")
        try:
            with open(key_file, "rb") as file:
                manager = _keys_manager(file.read(), PRIVATE_KEY)
            for node in encrypted:
                xmlsec.EncryptionContext(manager).decrypt(node)
        except (xmlsec.Error, OSError) as problem:
            raise DecryptError(str(problem)) from problem
        return _serialise(root)
