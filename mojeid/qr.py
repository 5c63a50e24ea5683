"""QR codes as inline SVG (no image library needed): the MojeID Klíč activation code, the
printed request for the Czech POINT office."""

import qrcode
import qrcode.image.svg
from django.utils.safestring import SafeString, mark_safe


def qr_svg(content: str) -> SafeString:
    """`content` as an SVG QR code, safe to put into a page (qrcode writes only its own paths)."""
    image = qrcode.make(content, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308 - our SVG, no input markup
