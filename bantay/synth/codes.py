"""Integer codes of the generator's event arrays: channels, reference words, hours of the day.

Events carry small integers (a channel, an index into REF_VOCAB, an hour); `tables` turns them into the
contract's strings at the end.
"""

from __future__ import annotations

import numpy as np

from bantay.synth import reference as ref

CHANNELS = ("remittance", "bank_transfer", "card", "wallet", "crypto", "cash")
REM, BANK, CARD, WALLET, CRYPTO, CASH = range(6)
HANDLE_REF = -2  # the reference is the payee's social handle
NO_REF = -1
NIGHT_HOURS = np.array([21, 22, 23, 0, 1, 2])
NIGHT_WEIGHTS = np.array([0.15, 0.22, 0.24, 0.2, 0.12, 0.07])
# Ordinary rhythm of the day (local hours 0-23): about 10% of payments fall between 21:00 and 03:00.
BASE_HOURS = np.array(
    [
        0.5,
        0.25,
        0.12,
        0.08,
        0.08,
        0.3,
        1.5,
        3.0,
        5.0,
        6.0,
        6.5,
        7.0,
        8.0,
        7.5,
        6.5,
        6.5,
        7.0,
        7.5,
        7.5,
        6.5,
        5.0,
        3.2,
        2.0,
        1.0,
    ]
)
BASE_P = BASE_HOURS / BASE_HOURS.sum()
DAY_P = np.where(np.isin(np.arange(24), NIGHT_HOURS), 0.0, BASE_HOURS)
DAY_P = DAY_P / DAY_P.sum()
ANY_P = np.full(24, 1 / 24) * 0.5 + BASE_P * 0.5

# Reference vocabulary: the fixed words, then social handles shared by everyone who writes one.
HANDLES = tuple(
    f"@{name.lower()}{suffix}"
    for name in (
        "jen",
        "mika",
        "angel",
        "bea",
        "kim",
        "joy",
        "nica",
        "pau",
        "aly",
        "cha",
        "ploy",
        "nok",
        "vale",
        "dani",
    )
    for suffix in ("_ph", "_live")
)
REF_VOCAB = ref.REFERENCES + HANDLES
REF = {word: i for i, word in enumerate(REF_VOCAB)}
