"""The schedules and automatic replies every new site starts with; all of them editable.

Working hours Mon-Fri 9:00-18:00 with a lunch break; nights and weekends answered at once,
working hours after a minute nobody answered. Each reply asks for the email when it is not
known, so the answer can reach the visitor after they leave.
"""

from __future__ import annotations

from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _ranges(days: tuple[str, ...], start: str, end: str) -> list[dict[str, str]]:
    return [{"day": day, "start": start, "end": end} for day in days]


SCHEDULES: list[dict[str, Any]] = [
    {"name": "Working hours", "staffed": True, "weekly": _ranges(WEEKDAYS, "09:00", "18:00")},
    {"name": "Lunch", "staffed": False, "weekly": _ranges(WEEKDAYS, "12:00", "13:00")},
    {
        "name": "Night",
        "staffed": False,
        # Weeknights: the evening of a working day until nine the next morning; Monday's
        # early hours follow the weekend.
        "weekly": [
            {"day": "mon", "start": "00:00", "end": "09:00"},
            *_ranges(("mon", "tue", "wed", "thu"), "18:00", "09:00"),
            {"day": "fri", "start": "18:00", "end": "24:00"},
        ],
    },
    {"name": "Weekend", "staffed": False, "weekly": _ranges(("sat", "sun"), "00:00", "24:00")},
]

_NAME = "{% if contact.first_name %}, {{ contact.first_name }}{% endif %}"

RULES: list[dict[str, Any]] = [
    {
        "name": "Weekend",
        "schedule": "Weekend",
        "condition": "nobody_online",
        "timeout_seconds": 0,
        "text": f"Thanks for your message{_NAME}! We're away for the weekend and will answer "
        "{{ next_available }}.",
        "translations": {
            "ja": "メッセージありがとうございます。週末のため不在にしております。"
            "{{ next_available }}にお返事します。",
            "ru": f"Спасибо за сообщение{_NAME}! Сейчас выходные, мы ответим "
            "{{ next_available }}.",
            "de": f"Danke für Ihre Nachricht{_NAME}! Wir sind am Wochenende nicht da und "
            "antworten {{ next_available }}.",
            "fr": f"Merci pour votre message{_NAME} ! Nous sommes absents ce week-end et vous "
            "répondrons {{ next_available }}.",
            "es": f"¡Gracias por tu mensaje{_NAME}! Estamos fuera el fin de semana y te "
            "responderemos {{ next_available }}.",
        },
    },
    {
        "name": "Night",
        "schedule": "Night",
        "condition": "nobody_online",
        "timeout_seconds": 0,
        "text": f"Thanks for your message{_NAME}! Our team is offline for the night and will "
        "answer {{ next_available }}.",
        "translations": {
            "ja": "メッセージありがとうございます。ただいま営業時間外です。"
            "{{ next_available }}にお返事します。",
            "ru": f"Спасибо за сообщение{_NAME}! Сейчас мы не на связи и ответим "
            "{{ next_available }}.",
            "de": f"Danke für Ihre Nachricht{_NAME}! Unser Team ist über Nacht nicht da und "
            "antwortet {{ next_available }}.",
            "fr": f"Merci pour votre message{_NAME} ! Notre équipe est absente pour la nuit et "
            "vous répondra {{ next_available }}.",
            "es": f"¡Gracias por tu mensaje{_NAME}! Nuestro equipo no está disponible por la "
            "noche y te responderá {{ next_available }}.",
        },
    },
    {
        "name": "Lunch break",
        "schedule": "Lunch",
        "condition": "nobody_online",
        "timeout_seconds": 0,
        "text": "Thanks for your message! We're on a lunch break and will answer "
        "{{ next_available }}.",
        "translations": {
            "ja": "メッセージありがとうございます。ただいま昼休み中です。"
            "{{ next_available }}にお返事します。",
            "ru": "Спасибо за сообщение! У нас обеденный перерыв, мы ответим "  # noqa: RUF001
            "{{ next_available }}.",
            "de": "Danke für Ihre Nachricht! Wir sind in der Mittagspause und antworten "
            "{{ next_available }}.",
            "fr": "Merci pour votre message ! Nous sommes en pause déjeuner et vous répondrons "
            "{{ next_available }}.",
            "es": "¡Gracias por tu mensaje! Estamos en la pausa del almuerzo y te "
            "responderemos {{ next_available }}.",
        },
    },
    {
        "name": "Working hours",
        "schedule": "Working hours",
        "condition": "nobody_replied",
        "timeout_seconds": 60,
        "text": f"Thanks for waiting{_NAME}! Everyone is busy right now; we'll answer as soon "
        "as we can.",
        "translations": {
            "ja": "お待たせしております。ただいま担当者が対応中です。できるだけ早くお返事します。",
            "ru": "Спасибо, что ждёте! Сейчас все заняты, мы ответим как можно скорее.",
            "de": "Danke für Ihre Geduld! Gerade sind alle beschäftigt; wir antworten so "
            "schnell wie möglich.",
            "fr": "Merci de patienter ! Toute l'équipe est occupée ; nous vous répondrons dès "
            "que possible.",
            "es": "¡Gracias por esperar! Ahora mismo todos están ocupados; te responderemos lo "
            "antes posible.",
        },
    },
]
