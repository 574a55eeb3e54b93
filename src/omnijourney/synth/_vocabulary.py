"""The words each source system uses for channels and events, and the way back to the library's.

Each system of a retailer names things its own way: the till software says ``"VENTE"`` (its
older release, still in some stores, ``"achat"``), the telephony ``"appel_entrant"``, the web
analytics tag ``"Purchase"``. The observed touchpoints of a world generated with
``vocabulary=True`` use these words; ``world.vocabulary`` maps them back.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CHANNEL_WORDS",
    "EVENT_WORDS",
    "OLD_TILL_EVENT_WORDS",
    "OUTBOUND_WORDS",
    "vocabulary",
    "word_table",
]

#: Per system, its word for each channel it records (the library's name when absent).
CHANNEL_WORDS: dict[str, dict[str, str]] = {
    "ads": {"social": "paid_social"},
    "contact_centre": {"call_centre": "telephone", "chat": "chat_en_ligne"},
    "crm": {"email": "EMAIL", "sms": "SMS"},
    "ecommerce": {"web": "site", "app": "appli_mobile"},
    "till": {"store": "magasin"},
}
#: Per system, its word for each event it records (the library's name when absent).
EVENT_WORDS: dict[str, dict[str, str]] = {
    "ads": {"ad_click": "clic_pub"},
    "contact_centre": {
        "call": "appel_entrant",
        "chat_message": "message_chat",
        "complaint": "reclamation",
        "purchase": "vente_distance",
    },
    "crm": {
        "complaint_answer": "reponse_reclamation",
        "email_click": "email_clicked",
        "sms_click": "sms_clicked",
        "welcome": "email_bienvenue",
    },
    "ecommerce": {
        "add_to_cart": "AddToCart",
        "form_submitted": "Lead",
        "order": "Order",
        "payment_failed": "PaymentError",
        "product_view": "ViewContent",
        "purchase": "Purchase",
        "quote_request": "RequestQuote",
        "quote_signed": "SignQuote",
        "reservation": "Reserve",
        "signup": "CompleteRegistration",
    },
    "till": {
        "form_submitted": "FICHE_CLIENT",
        "pickup": "RETRAIT",
        "purchase": "VENTE",
        "quote_request": "DEVIS",
        "quote_signed": "DEVIS_SIGNE",
        "store_visit": "PASSAGE",
    },
}
#: The older till release (in every third store) words its events in lower case French.
OLD_TILL_EVENT_WORDS = {
    "form_submitted": "fiche",
    "pickup": "retrait",
    "purchase": "achat",
    "quote_request": "devis",
    "quote_signed": "devis_signe",
    "store_visit": "passage",
}
#: The telephony's word for calls the centre makes (its inbound word is in EVENT_WORDS).
OUTBOUND_WORDS = {"call": "appel_sortant"}


def vocabulary() -> dict[str, dict[str, str]]:
    """The maps from every system's words to the library's: ``{"channel_map": {...},
    "event_map": {...}}`` (words that are already the library's are left out)."""
    channel_map = {w: c for words in CHANNEL_WORDS.values() for c, w in words.items()}
    event_map = {w: e for words in EVENT_WORDS.values() for e, w in words.items()}
    event_map.update({w: e for e, w in OLD_TILL_EVENT_WORDS.items()})
    event_map.update({w: e for e, w in OUTBOUND_WORDS.items()})
    return {
        "channel_map": dict(sorted(channel_map.items())),
        "event_map": dict(sorted(event_map.items())),
    }


def word_table(
    labels: np.ndarray, systems: tuple[str, ...], kind: str
) -> tuple[np.ndarray, list[str]]:
    """``(system, variant, code) -> word index`` and the words: variant 1 is the old till
    (events) or an outbound call (events); channels have one variant."""
    words: list[str] = []
    index: dict[str, int] = {}
    out = np.zeros((len(systems), 2, len(labels)), dtype=np.int64)
    for s_i, system in enumerate(systems):
        for variant in (0, 1):
            table = dict(CHANNEL_WORDS[system] if kind == "channel" else EVENT_WORDS[system])
            if kind == "event" and variant == 1:
                table.update(OLD_TILL_EVENT_WORDS if system == "till" else OUTBOUND_WORDS)
            for c_i, label in enumerate(labels.tolist()):
                word = table.get(label, label)
                out[s_i, variant, c_i] = index.setdefault(word, len(index))
                if len(words) < len(index):
                    words.append(word)
    return out, words
